import type { Database } from "bun:sqlite";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { EdgetrainError, notFound } from "../errors.ts";
import type { Events } from "../events/bus.ts";
import { KeyedQueue } from "../locks/keyed-queue.ts";
import { naturalOrder } from "../natural-order.ts";
import type { Logger } from "../plugin-api.ts";
import { ActivePointers } from "./active-pointer.ts";
import { repairIndex } from "./index-repair.ts";
import { checkModelName } from "./model-name.ts";
import { pruneVersions } from "./pruning.ts";
import { nothingToRollBackTo, previousIntact } from "./rollback-target.ts";
import { writeVersionFolder } from "./version-folder.ts";
import { VersionIndex } from "./version-index.ts";
import {
  damageOf,
  type ModelSummary,
  type ModelVersion,
  readHealthInputs,
  requireIntact,
  type VersionMetadata,
  type VersionStatus,
  versionDirs,
} from "./versions.ts";

export type { ModelSummary, ModelVersion, VersionMetadata, VersionStatus };

/**
 * Numbered model versions under `paths.models`. A version folder is written under a temporary name and
 * renamed whole; the active version is a pointer file replaced atomically. The pointer is the truth about
 * what serves: the database rows are an index for listing, repaired from the files at open.
 */
export class ModelStore {
  /** Changes to one model's files and pointer, one at a time: each waits for the disk, and two must not interleave. */
  private readonly changes = new KeyedQueue();
  private readonly pointers: ActivePointers;
  private readonly index: VersionIndex;
  /** Versions deploys in this process are working on, per model (one entry per hold): pruning leaves them. */
  private readonly holds = new Map<string, number[]>();

  constructor(
    readonly root: string,
    private readonly db: Database,
    private readonly keepVersions = 3,
    private readonly events: Events = { emit() {} },
    private readonly logger?: Pick<Logger, "warn" | "info">,
  ) {
    mkdirSync(root, { recursive: true });
    this.pointers = new ActivePointers(root);
    this.index = new VersionIndex(db, root);
    repairIndex({
      root,
      db,
      pointers: this.pointers,
      keepVersions,
      logger,
      index: (...args) => this.index.insert(...args),
      list: () => this.list(),
    });
  }

  /**
   * Copies a trained artifact in as the next version (a candidate, not yet serving); numbered at least
   * `atLeast` when given (a fleet update keeps the hub's number where no local version took it).
   */
  addVersion(
    model: string,
    artifact: string,
    metadata: Omit<VersionMetadata, "sha256" | "created_at">,
    healthInputs?: number[][],
    atLeast = 1,
  ): Promise<ModelVersion> {
    return this.changes.run(model, async () => {
      checkModelName(model);
      const version = Math.max(this.nextVersion(model), atLeast);
      // The parent a run started from, when it says (another job's version may have become active since).
      const parent = "parent" in metadata ? metadata.parent : this.activeVersion(model);
      const full = await writeVersionFolder(
        join(this.root, model),
        version,
        artifact,
        { ...metadata, parent },
        healthInputs,
      );
      this.index.insert(model, version, full, "candidate");
      this.events.emit("model.version_added", { model, version, metrics: full.metrics });
      await this.prune(model, version);
      return this.version(model, version)!;
    });
  }

  /** The version that serves, from the pointer file; undefined before the first activation. */
  activeVersion(model: string): number | undefined {
    return this.pointers.get(model)?.version;
  }

  /** Switches the pointer; verifies the version's file first so a damaged model is never made active. */
  activate(model: string, version: number): Promise<ModelVersion> {
    return this.changes.run(model, async () => {
      const target = this.requireVersion(model, version);
      await requireIntact(target);
      const before = this.pointers.get(model);
      if (before?.version === version) return target;
      const previous = before
        ? [...before.previous.filter((v) => v !== version), before.version].slice(-Math.max(this.keepVersions, 1))
        : [];
      await this.pointers.write(model, { version, previous, activated_at: new Date().toISOString() });
      this.index.transaction(() => {
        if (before) this.index.setStatus(model, before.version, "retired");
        this.index.setStatus(model, version, "active");
      });
      this.events.emit("model.activated", { model, version, previous: before?.version ?? null });
      await this.prune(model);
      return this.version(model, version)!;
    });
  }

  /**
   * Keeps a version from being pruned while a deploy works on it (a newer version added meanwhile would
   * otherwise count it against keep_versions); disposing the hold lets it go.
   */
  hold(model: string, version: number): Disposable {
    const held = this.holds.get(model) ?? [];
    this.holds.set(model, [...held, version]);
    return {
      [Symbol.dispose]: () => {
        const left = [...(this.holds.get(model) ?? [])];
        const at = left.indexOf(version);
        if (at >= 0) left.splice(at, 1);
        if (left.length) this.holds.set(model, left);
        else this.holds.delete(model);
      },
    };
  }

  /** Within a change of the model (on its queue); `added`: the version that change just added. */
  private prune(model: string, added?: number): Promise<void> {
    const parts = {
      root: this.root,
      db: this.db,
      keepVersions: this.keepVersions,
      events: this.events,
      logger: this.logger,
      forget: (m: string, v: number) => this.index.forget(m, v),
      lookup: (m: string, v: number) => this.version(m, v),
      held: (m: string) => this.holds.get(m) ?? [],
    };
    return pruneVersions(parts, model, this.pointers.get(model), added);
  }

  /**
   * Goes back to the version active before the current one, past any whose file is gone or damaged;
   * `status` marks why the current one left.
   */
  rollback(model: string, reason: string, status: VersionStatus = "rolled_back"): Promise<ModelVersion> {
    return this.changes.run(model, async () => {
      checkModelName(model);
      const current = this.pointers.get(model);
      if (!current) {
        this.requireVersions(model);
        throw new EdgetrainError("not_found", `model ${model} has no active version to roll back from`, {
          details: { model },
        });
      }
      const { target, rest, skipped } = await previousIntact(current, (v) => this.version(model, v));
      if (target === undefined) {
        const intact = await this.intactVersions(model);
        throw nothingToRollBackTo(model, current.version, skipped, this.versions(model), intact);
      }
      await this.pointers.write(model, { version: target, previous: rest, activated_at: new Date().toISOString() });
      this.index.transaction(() => {
        this.index.setStatus(model, current.version, status, reason);
        this.index.setStatus(model, target, "active");
      });
      this.events.emit("model.rolled_back", { model, from: current.version, to: target, reason });
      return this.version(model, target)!;
    });
  }

  /** Takes the only version out of service (its first activation failed and there is nothing to return to). */
  withdraw(model: string, reason: string): Promise<void> {
    return this.changes.run(model, async () => {
      const current = this.pointers.get(model);
      if (!current) return;
      // Marked before the pointer goes: after a crash in between, a missing pointer must not read as deleted by hand
      // and be restored.
      this.index.setStatus(model, current.version, "rolled_back", reason);
      await this.pointers.remove(model);
      this.events.emit("model.withdrawn", { model, version: current.version, reason });
    });
  }

  /** A candidate the gate turned down: kept and listed, with the scores that decided. */
  reject(model: string, version: number, reason: string, gate?: Record<string, unknown>): void {
    this.index.setStatus(model, version, "rejected", reason, gate);
    this.events.emit("model.rejected", { model, version, reason, ...(gate ? { gate } : {}) });
  }

  note(model: string, version: number, gate: Record<string, unknown>): void {
    this.index.note(model, version, gate);
  }

  list(): ModelSummary[] {
    const rows = this.index.models();
    // SQLite orders player_10 before player_2; people count.
    return rows
      .toSorted((a, b) => naturalOrder(a.model, b.model))
      .map((row) => {
        const active = this.activeVersion(row.model);
        const shown = this.version(row.model, active ?? row.latest);
        return {
          model: row.model,
          active,
          versions: row.versions,
          latest: row.latest,
          job: shown?.job,
          key: shown?.key,
          metrics: shown?.metrics,
          activated_at: this.pointers.get(row.model)?.activated_at,
        };
      });
  }

  versions(model: string): ModelVersion[] {
    checkModelName(model);
    return this.index
      .versionNumbers(model)
      .map((version) => this.version(model, version)!)
      .filter(Boolean);
  }

  /** The model's versions, newest first; not_found, with the closest known name, when it has none. */
  requireVersions(model: string): ModelVersion[] {
    const versions = this.versions(model);
    if (versions.length === 0) throw this.unknownModel(model);
    return versions;
  }

  version(model: string, version: number): ModelVersion | undefined {
    return this.index.record(model, version, this.activeVersion(model));
  }

  requireVersion(model: string, version: number): ModelVersion {
    checkModelName(model);
    const found = this.version(model, version);
    if (!found || !existsSync(found.path)) {
      const known = this.requireVersions(model).map((v) => v.version);
      throw new EdgetrainError("not_found", `model ${model} has no version ${version}`, {
        details: { model, version },
        hint: `versions kept: ${known.join(", ")}`,
      });
    }
    return found;
  }

  private unknownModel(model: string): EdgetrainError {
    return notFound("model", model, this.index.modelNames(), { hint: "edgetrain models (GET /v1/models) lists them" });
  }

  healthInputs(model: string, version: number): number[][] | undefined {
    return readHealthInputs(this.root, model, version);
  }

  /** The version a rollback would return to, if one is kept whole. */
  async rollbackTarget(model: string): Promise<number | undefined> {
    const pointer = this.pointers.get(model);
    return pointer ? (await previousIntact(pointer, (v) => this.version(model, v))).target : undefined;
  }

  /** The model's versions whose files match their sha256, newest first: what it can actually serve. */
  async intactVersions(model: string): Promise<ModelVersion[]> {
    const versions = this.requireVersions(model);
    const damage = await Promise.all(versions.map((version) => this.damageOf(version)));
    return versions.filter((_, i) => damage[i] === undefined);
  }

  /** What is wrong with a version's file (gone, or not matching its sha256), or undefined when it is whole. */
  damageOf(version: ModelVersion): Promise<string | undefined> {
    return damageOf(version);
  }

  /** The active version with its file, for serving; undefined when the model has none. */
  active(model: string): ModelVersion | undefined {
    const version = this.activeVersion(model);
    return version === undefined ? undefined : this.version(model, version);
  }

  private nextVersion(model: string): number {
    return Math.max(this.index.latest(model), ...versionDirs(this.root, model)) + 1;
  }
}
