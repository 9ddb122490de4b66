import type { Database } from "bun:sqlite";
import { existsSync, mkdirSync } from "node:fs";
import { copyFile, mkdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { EdgetrainError, notFound } from "../errors.ts";
import { syncPath, writeAtomicallyAsync } from "../files/write-atomically.ts";
import { writeFailure } from "../files/write-failure.ts";
import { KeyedQueue } from "../locks/keyed-queue.ts";
import { naturalOrder } from "../natural-order.ts";
import type { Events } from "../events/bus.ts";
import type { Logger } from "../plugin-api.ts";
import { checkModelName } from "./model-name.ts";
import { ActivePointers, type ActivePointer } from "./active-pointer.ts";
import { repairIndex } from "./index-repair.ts";
import { pruneVersions } from "./pruning.ts";
import { damageOf, HEALTH_FILE, METADATA_FILE, MODEL_FILE, readHealthInputs, sha256OfFile, versionDirs, type ModelSummary, type ModelVersion, type VersionMetadata, type VersionStatus } from "./versions.ts";

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
  /** Parsed index rows, each with the last record composed from it: every predict asks for the active version. */
  private readonly rows = new Map<string, { status: VersionStatus; path: string; metadata?: VersionMetadata; composed?: ModelVersion }>();

  constructor(
    readonly root: string,
    private readonly db: Database,
    private readonly keepVersions = 3,
    private readonly events: Events = { emit() {} },
    logger?: Pick<Logger, "warn">,
  ) {
    mkdirSync(root, { recursive: true });
    this.pointers = new ActivePointers(root);
    repairIndex({ root, db, pointers: this.pointers, keepVersions, logger, index: (...args) => this.index(...args), list: () => this.list() });
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
      const dir = join(this.root, model);
      await mkdir(dir, { recursive: true });
      const version = Math.max(this.nextVersion(model), atLeast);
      const incoming = join(dir, `.incoming-${version}-${process.pid}`);
      await rm(incoming, { recursive: true, force: true });
      await mkdir(incoming);
      try {
        try {
          await copyFile(artifact, join(incoming, MODEL_FILE));
          const [from, to] = await Promise.all([stat(artifact), stat(join(incoming, MODEL_FILE))]);
          // A copy cut short by a full disk must never become a version.
          if (to.size !== from.size) throw new Error(`the copy stopped after ${to.size} of ${from.size} bytes`);
        } catch (error) {
          throw writeFailure(join(dir, String(version), MODEL_FILE), error);
        }
        await syncPath(join(incoming, MODEL_FILE));
        // The parent a run started from, when it says (another job's version may have become active since).
        const parent = "parent" in metadata ? metadata.parent : this.activeVersion(model);
        const full: VersionMetadata = { ...metadata, parent, created_at: new Date().toISOString(), sha256: await sha256OfFile(join(incoming, MODEL_FILE)) };
        await writeAtomicallyAsync(join(incoming, METADATA_FILE), JSON.stringify(full, null, 2) + "\n");
        if (healthInputs?.length) await writeAtomicallyAsync(join(incoming, HEALTH_FILE), JSON.stringify(healthInputs) + "\n");
        await rename(incoming, join(dir, String(version)));
        await syncPath(dir);
        this.index(model, version, full, "candidate");
        this.events.emit("model.version_added", { model, version, metrics: full.metrics });
        return this.version(model, version)!;
      } finally {
        await rm(incoming, { recursive: true, force: true });
      }
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
      await this.verify(target);
      const before = this.pointers.get(model);
      if (before?.version === version) return target;
      const previous = before ? [...before.previous.filter((v) => v !== version), before.version].slice(-Math.max(this.keepVersions, 1)) : [];
      await this.pointers.write(model, { version, previous, activated_at: new Date().toISOString() });
      this.db.transaction(() => {
        if (before) this.setStatus(model, before.version, "retired");
        this.setStatus(model, version, "active");
      })();
      this.events.emit("model.activated", { model, version, previous: before?.version ?? null });
      await pruneVersions({ root: this.root, db: this.db, keepVersions: this.keepVersions, events: this.events, forget: (m, v) => this.rows.delete(`${m}@${v}`) }, model, this.pointers.get(model));
      return this.version(model, version)!;
    });
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
        throw new EdgetrainError("not_found", `model ${model} has no active version to roll back from`, { details: { model } });
      }
      const { target, rest, skipped } = await this.previousIntact(model, current);
      if (target === undefined) throw await this.nothingToRollBackTo(model, current.version, skipped);
      await this.pointers.write(model, { version: target, previous: rest, activated_at: new Date().toISOString() });
      this.db.transaction(() => {
        this.setStatus(model, current.version, status, reason);
        this.setStatus(model, target, "active");
      })();
      this.events.emit("model.rolled_back", { model, from: current.version, to: target, reason });
      return this.version(model, target)!;
    });
  }

  /** Takes the only version out of service (its first activation failed and there is nothing to return to). */
  withdraw(model: string, reason: string): Promise<void> {
    return this.changes.run(model, async () => {
      const current = this.pointers.get(model);
      if (!current) return;
      // Marked before the pointer goes: after a crash in between, a missing pointer must not read as deleted by hand and be restored.
      this.setStatus(model, current.version, "rolled_back", reason);
      await this.pointers.remove(model);
      this.events.emit("model.withdrawn", { model, version: current.version, reason });
    });
  }

  /** A candidate the gate turned down: kept and listed, with the scores that decided. */
  reject(model: string, version: number, reason: string, gate?: Record<string, unknown>): void {
    this.setStatus(model, version, "rejected", reason, gate);
    this.events.emit("model.rejected", { model, version, reason, ...(gate ? { gate } : {}) });
  }

  note(model: string, version: number, gate: Record<string, unknown>): void {
    this.db.query("UPDATE model_versions SET metadata = json_set(coalesce(metadata, '{}'), '$.gate', json(?)) WHERE model = ? AND version = ?").run(JSON.stringify(gate), model, version);
    this.rows.delete(`${model}@${version}`);
  }

  list(): ModelSummary[] {
    const rows = this.db
      .query<{ model: string; versions: number; latest: number }, []>("SELECT model, count(*) AS versions, max(version) AS latest FROM model_versions GROUP BY model ORDER BY model")
      .all();
    // SQLite orders player_10 before player_2; people count.
    return rows.toSorted((a, b) => naturalOrder(a.model, b.model)).map((row) => {
      const active = this.activeVersion(row.model);
      const shown = this.version(row.model, active ?? row.latest);
      return { model: row.model, active, versions: row.versions, latest: row.latest, job: shown?.job, key: shown?.key, metrics: shown?.metrics, activated_at: this.pointers.get(row.model)?.activated_at };
    });
  }

  versions(model: string): ModelVersion[] {
    checkModelName(model);
    return this.db
      .query<{ version: number }, [string]>("SELECT version FROM model_versions WHERE model = ? ORDER BY version DESC")
      .all(model)
      .map((row) => this.version(model, row.version)!)
      .filter(Boolean);
  }

  /** The model's versions, newest first; not_found, with the closest known name, when it has none. */
  requireVersions(model: string): ModelVersion[] {
    const versions = this.versions(model);
    if (versions.length === 0) throw this.unknownModel(model);
    return versions;
  }

  version(model: string, version: number): ModelVersion | undefined {
    const id = `${model}@${version}`;
    let row = this.rows.get(id);
    if (!row) {
      const stored = this.db
        .query<{ status: VersionStatus; path: string; metadata: string | null }, [string, number]>("SELECT status, path, metadata FROM model_versions WHERE model = ? AND version = ?")
        .get(model, version);
      if (!stored) return undefined;
      row = { status: stored.status, path: stored.path, metadata: stored.metadata ? (JSON.parse(stored.metadata) as VersionMetadata) : undefined };
      this.rows.set(id, row);
    }
    const status = this.activeVersion(model) === version ? "active" : row.status === "active" ? "retired" : row.status;
    if (row.composed?.status !== status) row.composed = { ...(row.metadata as VersionMetadata), model, version, status, path: row.path };
    return row.composed;
  }

  requireVersion(model: string, version: number): ModelVersion {
    checkModelName(model);
    const found = this.version(model, version);
    if (!found || !existsSync(found.path)) {
      const known = this.requireVersions(model).map((v) => v.version);
      throw new EdgetrainError("not_found", `model ${model} has no version ${version}`, { details: { model, version }, hint: `versions kept: ${known.join(", ")}` });
    }
    return found;
  }

  private unknownModel(model: string): EdgetrainError {
    const known = this.db.query<{ model: string }, []>("SELECT DISTINCT model FROM model_versions").all().map((row) => row.model);
    return notFound("model", model, known, { hint: "edgetrain models (GET /v1/models) lists them" });
  }

  healthInputs(model: string, version: number): number[][] | undefined {
    return readHealthInputs(this.root, model, version);
  }

  /** The version a rollback would return to, if one is kept whole. */
  async rollbackTarget(model: string): Promise<number | undefined> {
    const pointer = this.pointers.get(model);
    return pointer ? (await this.previousIntact(model, pointer)).target : undefined;
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

  private async verify(version: ModelVersion): Promise<void> {
    const damage = await this.damageOf(version);
    if (damage) throw new EdgetrainError("model_not_loadable", `model ${version.model} version ${version.version}: ${damage}; not activated`, { details: { model: version.model, version: version.version } });
  }

  /** The versions that served before the current one, newest first, walked past any whose file is gone or damaged. */
  private async previousIntact(model: string, pointer: ActivePointer): Promise<{ target?: number; rest: number[]; skipped: number[] }> {
    const rest = [...pointer.previous];
    const skipped: number[] = [];
    while (rest.length) {
      const candidate = rest.pop()!;
      const version = this.version(model, candidate);
      if (version && (await this.damageOf(version)) === undefined) return { target: candidate, rest, skipped };
      skipped.push(candidate);
    }
    return { rest, skipped };
  }

  /** Names what the model can return to instead: a rollback only goes back, but another intact version may be kept. */
  private async nothingToRollBackTo(model: string, current: number, skipped: number[]): Promise<EdgetrainError> {
    const others = this.versions(model).filter((v) => v.version !== current);
    const intact = (await this.intactVersions(model)).filter((v) => v.version !== current);
    const why = skipped.length ? `has no intact earlier version to roll back to (${skipped.map((v) => `version ${v}`).join(", ")} ${skipped.length > 1 ? "are" : "is"} damaged or gone)` : "has no earlier version to roll back to";
    let instead = `intact versions it can serve instead: ${intact.map((v) => `${v.version} (${v.status})`).join(", ")}`;
    if (others.length === 0) instead = `version ${current} is the only one kept`;
    else if (intact.length === 0) instead = "no other version kept is intact";
    return new EdgetrainError("conflict", `model ${model} ${why}; ${instead}`, {
      details: { model, version: current, intact: intact.map((v) => v.version) },
      hint: intact.length ? `edgetrain activate ${model} ${intact[0]!.version} makes one serve` : "a new run of its job trains a version that replaces it",
    });
  }

  private nextVersion(model: string): number {
    const row = this.db.query<{ latest: number | null }, [string]>("SELECT max(version) AS latest FROM model_versions WHERE model = ?").get(model);
    return Math.max(row?.latest ?? 0, ...versionDirs(this.root, model)) + 1;
  }

  private index(model: string, version: number, metadata: VersionMetadata, status: VersionStatus): void {
    this.db
      .query("INSERT OR REPLACE INTO model_versions (model, version, job, key, run_id, path, sha256, status, metrics, metadata, created_at) VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?)")
      .run(model, version, metadata.job ?? null, metadata.key ?? null, join(this.root, model, String(version), MODEL_FILE), metadata.sha256, status, JSON.stringify(metadata.metrics), JSON.stringify(metadata), Date.parse(metadata.created_at));
    this.rows.delete(`${model}@${version}`);
  }

  private setStatus(model: string, version: number, status: VersionStatus, note?: string, gate?: Record<string, unknown>): void {
    let sql = "UPDATE model_versions SET status = ?";
    const args: Array<string | number> = [status];
    if (note !== undefined) (sql += ", metadata = json_set(coalesce(metadata, '{}'), '$.note', ?)"), args.push(note);
    if (gate !== undefined) (sql += ", metadata = json_set(coalesce(metadata, '{}'), '$.gate', json(?))"), args.push(JSON.stringify(gate));
    this.db.query(`${sql} WHERE model = ? AND version = ?`).run(...args, model, version);
    this.rows.delete(`${model}@${version}`);
  }
}
