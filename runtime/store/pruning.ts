import type { Database } from "bun:sqlite";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Events } from "../events/bus.ts";
import type { Logger } from "../plugin-api.ts";
import { versionsOfUnfinishedDeploys } from "../state/deploys.ts";
import type { ActivePointer } from "./active-pointer.ts";
import { type ModelVersion, versionDirs } from "./versions.ts";

export interface PruneParts {
  root: string;
  db: Database;
  keepVersions: number;
  events: Events;
  logger?: Pick<Logger, "info">;
  /** The store's parsed record of a version, dropped with its row. */
  forget(model: string, version: number): void;
  /** The store's record of a version, for its status and source. */
  lookup(model: string, version: number): ModelVersion | undefined;
  /** Versions a deploy in this process is working on. */
  held(model: string): readonly number[];
}

/**
 * Keeps the active version and keep_versions others: the ones that served before it first (what a
 * rollback returns to), then the newest. Run at every version added as well as at every activation, so
 * candidates that never serve (gate-rejected, imported, fleet updates waiting for a person) stay bounded.
 * Versions still in use are kept even past the limit (`protectedVersions`); the oldest others go first.
 */
export async function pruneVersions(
  parts: PruneParts,
  model: string,
  pointer: ActivePointer | undefined,
  added?: number,
): Promise<void> {
  const active = pointer?.version;
  const others = versionDirs(parts.root, model).filter((v) => v !== active);
  const history = [...(pointer?.previous ?? [])].reverse().filter((v) => others.includes(v));
  const newest = others.toSorted((a, b) => b - a);
  const kept = new Set(protectedVersions(parts, model, history, newest, added).filter((v) => others.includes(v)));
  for (const version of [...history, ...newest]) {
    if (kept.size >= parts.keepVersions) break;
    kept.add(version);
  }
  for (const version of newest.filter((v) => !kept.has(v)).reverse()) {
    await rm(join(parts.root, model, String(version)), { recursive: true, force: true });
    parts.db.query("DELETE FROM model_versions WHERE model = ? AND version = ?").run(model, version);
    parts.forget(model, version);
    parts.logger?.info(`pruned model ${model} version ${version} (models.keep_versions ${parts.keepVersions})`, {
      model,
      version,
    });
    parts.events.emit("model.pruned", { model, version });
  }
}

/**
 * What pruning must not take whatever the limit: the rollback target, the version just added and those
 * a deploy works on (here, or left to resume after a crash), and the newest fleet update still waiting
 * for `edgetrain activate` (with auto_update false, a person activates it later).
 */
function protectedVersions(
  parts: PruneParts,
  model: string,
  history: number[],
  newest: number[],
  added: number | undefined,
): number[] {
  const waiting = newest.find((v) => {
    const record = parts.lookup(model, v);
    return record?.status === "candidate" && record.source === "fleet";
  });
  const found = [history[0], added, waiting, ...parts.held(model), ...versionsOfUnfinishedDeploys(parts.db, model)];
  return found.filter((v): v is number => v !== undefined);
}
