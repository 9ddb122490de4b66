import type { Database } from "bun:sqlite";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Events } from "../events/bus.ts";
import type { ActivePointer } from "./active-pointer.ts";
import { versionDirs } from "./versions.ts";

export interface PruneParts {
  root: string;
  db: Database;
  keepVersions: number;
  events: Events;
  /** The store's parsed record of a version, dropped with its row. */
  forget(model: string, version: number): void;
}

/**
 * Keeps the active version and keep_versions others: the ones that served before it first (what a
 * rollback returns to), then the newest. Older folders and rows go.
 */
export async function pruneVersions(
  parts: PruneParts,
  model: string,
  pointer: ActivePointer | undefined,
): Promise<void> {
  const active = pointer?.version;
  const dirs = versionDirs(parts.root, model);
  const history = [...(pointer?.previous ?? [])].reverse();
  const newest = dirs.filter((v) => v !== active).sort((a, b) => b - a);
  const kept = new Set(
    [...new Set([...history, ...newest])].filter((v) => v !== active && dirs.includes(v)).slice(0, parts.keepVersions),
  );
  for (const version of newest.filter((v) => !kept.has(v))) {
    await rm(join(parts.root, model, String(version)), { recursive: true, force: true });
    parts.db.query("DELETE FROM model_versions WHERE model = ? AND version = ?").run(model, version);
    parts.forget(model, version);
    parts.events.emit("model.pruned", { model, version });
  }
}
