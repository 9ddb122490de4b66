import type { Database } from "bun:sqlite";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { copyFile, mkdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { EdgetrainError, messageOf, notFound } from "../errors.ts";
import { syncPath, writeAtomically, writeAtomicallyAsync } from "../files/write-atomically.ts";
import { writeFailure } from "../files/write-failure.ts";
import { KeyedQueue } from "../locks/keyed-queue.ts";
import type { Events } from "../events/bus.ts";
import type { Logger } from "../plugin-api.ts";
import { checkModelName } from "./model-name.ts";

export type VersionStatus = "candidate" | "active" | "retired" | "rejected" | "rolled_back";

/** What is kept with every version, besides the ONNX file (immutable once written). */
export interface VersionMetadata {
  job?: string;
  key?: string;
  run?: string;
  strategy?: string;
  options?: Record<string, unknown>;
  /** The data window in words, files and row counts. */
  data?: Record<string, unknown>;
  task?: "classification" | "regression";
  feature_names?: string[];
  classes?: string[];
  metrics: Record<string, number>;
  parent?: number;
  created_at: string;
  sha256: string;
}

/** Shared between callers (the store hands out one record per version and status): never changed in place. */
export interface ModelVersion extends Readonly<VersionMetadata> {
  readonly model: string;
  readonly version: number;
  readonly status: VersionStatus;
  readonly path: string;
  /** Why a version was rejected or rolled back, and the scores behind it. */
  readonly note?: string;
  readonly gate?: Record<string, unknown>;
}

export interface ModelSummary {
  model: string;
  active?: number;
  versions: number;
  latest: number;
  job?: string;
  key?: string;
  metrics?: Record<string, number>;
  activated_at?: string;
}

/** `models/<name>/active.json`: the serving version and the ones before it, for rollback. */
interface ActivePointer {
  version: number;
  previous: number[];
  activated_at: string;
}

const MODEL_FILE = "model.onnx";
const METADATA_FILE = "version.json";
const POINTER_FILE = "active.json";
/** A few held-out rows kept with the version: every activation predicts them as a health check. */
const HEALTH_FILE = "health.json";

/**
 * Numbered model versions under `paths.models`. A version folder is written under a temporary name and
 * renamed whole; the active version is a pointer file replaced atomically. The pointer is the truth about
 * what serves: the database rows are an index for listing, repaired from the files at open.
 */
export class ModelStore {
  /** Changes to one model's files and pointer, one at a time: each waits for the disk, and two must not interleave. */
  private readonly changes = new KeyedQueue();
  private readonly pointers = new Map<string, ActivePointer | undefined>();
  /** Parsed index rows, each with the last record composed from it: every predict asks for the active version. */
  private readonly rows = new Map<string, { status: VersionStatus; path: string; metadata?: VersionMetadata; composed?: ModelVersion }>();

  constructor(
    readonly root: string,
    private readonly db: Database,
    private readonly keepVersions = 3,
    private readonly events: Events = { emit() {} },
    private readonly logger?: Pick<Logger, "warn">,
  ) {
    mkdirSync(root, { recursive: true });
    this.repairIndex();
  }

  /** Copies a trained artifact in as the next version (a candidate, not yet serving). */
  addVersion(model: string, artifact: string, metadata: Omit<VersionMetadata, "sha256" | "created_at" | "parent">, healthInputs?: number[][]): Promise<ModelVersion> {
    return this.changes.run(model, async () => {
      checkModelName(model);
      const dir = join(this.root, model);
      await mkdir(dir, { recursive: true });
      const version = this.nextVersion(model);
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
        const full: VersionMetadata = { ...metadata, parent: this.activeVersion(model), created_at: new Date().toISOString(), sha256: await sha256OfFile(join(incoming, MODEL_FILE)) };
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
    return this.pointer(model)?.version;
  }

  /** Switches the pointer; verifies the version's file first so a damaged model is never made active. */
  activate(model: string, version: number): Promise<ModelVersion> {
    return this.changes.run(model, async () => {
      const target = this.requireVersion(model, version);
      await this.verify(target);
      const before = this.pointer(model);
      if (before?.version === version) return target;
      const previous = before ? [...before.previous.filter((v) => v !== version), before.version].slice(-Math.max(this.keepVersions, 1)) : [];
      await this.writePointer(model, { version, previous, activated_at: new Date().toISOString() });
      this.db.transaction(() => {
        if (before) this.setStatus(model, before.version, "retired");
        this.setStatus(model, version, "active");
        this.db.query("INSERT INTO active_models (model, version, activated_at) VALUES (?, ?, ?) ON CONFLICT (model) DO UPDATE SET version = excluded.version, activated_at = excluded.activated_at").run(model, version, Date.now());
      })();
      this.events.emit("model.activated", { model, version, previous: before?.version ?? null });
      await this.prune(model);
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
      const current = this.pointer(model);
      if (!current) {
        this.requireVersions(model);
        throw new EdgetrainError("not_found", `model ${model} has no active version to roll back from`, { details: { model } });
      }
      const { target, rest, skipped } = await this.previousIntact(model, current);
      if (target === undefined) throw await this.nothingToRollBackTo(model, current.version, skipped);
      await this.writePointer(model, { version: target, previous: rest, activated_at: new Date().toISOString() });
      this.db.transaction(() => {
        this.setStatus(model, current.version, status, reason);
        this.setStatus(model, target, "active");
        this.db.query("UPDATE active_models SET version = ?, activated_at = ? WHERE model = ?").run(target, Date.now(), model);
      })();
      this.events.emit("model.rolled_back", { model, from: current.version, to: target, reason });
      return this.version(model, target)!;
    });
  }

  /** Takes the only version out of service (its first activation failed and there is nothing to return to). */
  withdraw(model: string, reason: string): Promise<void> {
    return this.changes.run(model, async () => {
      const current = this.pointer(model);
      if (!current) return;
      // Marked before the pointer goes: after a crash in between, a missing pointer must not read as deleted by hand and be restored.
      this.setStatus(model, current.version, "rolled_back", reason);
      await rm(join(this.root, model, POINTER_FILE), { force: true });
      await syncPath(join(this.root, model));
      this.pointers.set(model, undefined);
      this.db.query("DELETE FROM active_models WHERE model = ?").run(model);
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
    return rows.map((row) => {
      const active = this.activeVersion(row.model);
      const shown = this.version(row.model, active ?? row.latest);
      return { model: row.model, active, versions: row.versions, latest: row.latest, job: shown?.job, key: shown?.key, metrics: shown?.metrics, activated_at: this.pointer(row.model)?.activated_at };
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
    try {
      return JSON.parse(readFileSync(join(this.root, model, String(version), HEALTH_FILE), "utf8")) as number[][];
    } catch {
      return undefined;
    }
  }

  /** The version a rollback would return to, if one is kept whole. */
  async rollbackTarget(model: string): Promise<number | undefined> {
    const pointer = this.pointer(model);
    return pointer ? (await this.previousIntact(model, pointer)).target : undefined;
  }

  /** The model's versions whose files match their sha256, newest first: what it can actually serve. */
  async intactVersions(model: string): Promise<ModelVersion[]> {
    const versions = this.requireVersions(model);
    const damage = await Promise.all(versions.map((version) => this.damageOf(version)));
    return versions.filter((_, i) => damage[i] === undefined);
  }

  /** What is wrong with a version's file (gone, or not matching its sha256), or undefined when it is whole. */
  async damageOf(version: ModelVersion): Promise<string | undefined> {
    let actual: string;
    try {
      actual = await sha256OfFile(version.path);
    } catch (error) {
      return `${version.path} cannot be read (${messageOf(error)})`;
    }
    return actual === version.sha256 ? undefined : `${version.path} does not match its sha256 (damaged or changed by hand)`;
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

  private pointer(model: string): ActivePointer | undefined {
    if (this.pointers.has(model)) return this.pointers.get(model);
    let pointer: ActivePointer | undefined;
    try {
      const read = readPointer(readFileSync(join(this.root, model, POINTER_FILE), "utf8"));
      pointer = "pointer" in read ? read.pointer : undefined;
    } catch {
      pointer = undefined;
    }
    this.pointers.set(model, pointer);
    return pointer;
  }

  /** Readers go on seeing the old pointer until the new one is durable. */
  private async writePointer(model: string, pointer: ActivePointer): Promise<void> {
    await writeAtomicallyAsync(join(this.root, model, POINTER_FILE), JSON.stringify(pointer) + "\n");
    await syncPath(join(this.root, model));
    this.pointers.set(model, pointer);
  }

  private nextVersion(model: string): number {
    const row = this.db.query<{ latest: number | null }, [string]>("SELECT max(version) AS latest FROM model_versions WHERE model = ?").get(model);
    return Math.max(row?.latest ?? 0, ...this.versionDirs(model)) + 1;
  }

  private versionDirs(model: string): number[] {
    try {
      return readdirSync(join(this.root, model)).filter((name) => /^\d+$/.test(name)).map(Number);
    } catch {
      return [];
    }
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

  /**
   * Keeps the active version and keep_versions others: the ones that served before it first (what a
   * rollback returns to), then the newest. Older folders and rows go.
   */
  private async prune(model: string): Promise<void> {
    const active = this.activeVersion(model);
    const dirs = this.versionDirs(model);
    const history = [...(this.pointer(model)?.previous ?? [])].reverse();
    const newest = dirs.filter((v) => v !== active).sort((a, b) => b - a);
    const kept = new Set([...new Set([...history, ...newest])].filter((v) => v !== active && dirs.includes(v)).slice(0, this.keepVersions));
    for (const version of newest.filter((v) => !kept.has(v))) {
      await rm(join(this.root, model, String(version)), { recursive: true, force: true });
      this.db.query("DELETE FROM model_versions WHERE model = ? AND version = ?").run(model, version);
      this.rows.delete(`${model}@${version}`);
      this.events.emit("model.pruned", { model, version });
    }
  }

  /**
   * The store never leaves a half-written pointer, nor removes one without the database knowing, but a
   * hand edit, a cleanup or a failing disk can: read as "no active version", it would take the model out
   * of service. The database recorded every activation, so that version serves again; a damaged file is
   * kept beside it for a look.
   */
  private restorePointer(model: string): void {
    const file = join(this.root, model, POINTER_FILE);
    let read: ReturnType<typeof readPointer> | undefined;
    try {
      read = readPointer(readFileSync(file, "utf8"));
    } catch (error) {
      // Unreadable (permissions, a folder in its place) is not damage to repair: the model serves nothing, and says why.
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
        this.logger?.warn(`model ${model}: cannot read ${file} (${messageOf(error)}); the model serves nothing until it can`, { model });
        this.pointers.set(model, undefined);
        return;
      }
    }
    // Read once at open: what serves is known from here on without reading the file again.
    if (read && "pointer" in read) return void this.pointers.set(model, read.pointer);
    const recorded = this.db.query<{ version: number }, [string]>("SELECT version FROM active_models WHERE model = ?").get(model)?.version;
    const onDisk = recorded !== undefined && existsSync(join(this.root, model, String(recorded), MODEL_FILE));
    this.pointers.set(model, undefined);
    if (!read) {
      // No pointer and no activation on record: a model before its first activation. A withdrawal cut short
      // by a crash marked its version first; it is finished here, not undone.
      if (recorded === undefined) return;
      const status = this.db.query<{ status: VersionStatus }, [string, number]>("SELECT status FROM model_versions WHERE model = ? AND version = ?").get(model, recorded)?.status;
      if (status === "rolled_back") return void this.db.query("DELETE FROM active_models WHERE model = ?").run(model);
      if (!onDisk) {
        this.logger?.warn(`model ${model}: ${file} is missing and version ${recorded}, which the state database records as active, is not on disk; the model serves nothing until one is activated`, { model });
        return;
      }
      const pointer = this.writeRecordedPointer(model, recorded);
      this.logger?.warn(`model ${model}: ${file} was missing; version ${recorded} serves again, as the state database recorded, and ${rollbackText(pointer)}`, { model, version: recorded });
      return;
    }
    const { problem } = read;
    copyFileSync(file, `${file}.damaged`);
    if (!onDisk) {
      rmSync(file, { force: true });
      this.logger?.warn(`model ${model}: ${file} is damaged (${problem}) and the state database names no version on disk; the model serves nothing until one is activated (the file is kept as ${POINTER_FILE}.damaged)`, { model });
      return;
    }
    const pointer = this.writeRecordedPointer(model, recorded);
    this.logger?.warn(`model ${model}: ${file} was damaged (${problem}); version ${recorded} serves again, as the state database recorded, and ${rollbackText(pointer)} (the file is kept as ${POINTER_FILE}.damaged)`, { model, version: recorded });
  }

  private writeRecordedPointer(model: string, recorded: number): ActivePointer {
    // Retired versions are the ones that served before: in version order, the last is the likeliest to have served last.
    const retired = this.db
      .query<{ version: number }, [string]>("SELECT version FROM model_versions WHERE model = ? AND status = 'retired' ORDER BY version")
      .all(model)
      .map((row) => row.version)
      .filter((version) => version !== recorded && existsSync(join(this.root, model, String(version), MODEL_FILE)));
    const pointer: ActivePointer = { version: recorded, previous: retired.slice(-Math.max(this.keepVersions, 1)), activated_at: new Date().toISOString() };
    writeAtomically(join(this.root, model, POINTER_FILE), JSON.stringify(pointer) + "\n");
    this.pointers.set(model, pointer);
    return pointer;
  }

  /**
   * A crash between the folder rename and the index insert leaves a folder without a row: index it again.
   * With a new or deleted state database, every folder is: the index is rebuilt from the models folder.
   */
  private repairIndex(): void {
    let models: string[];
    try {
      models = readdirSync(this.root).filter((name) => !name.startsWith("."));
    } catch {
      return;
    }
    const rebuilding = !this.db.query("SELECT 1 FROM model_versions LIMIT 1").get();
    let indexed = 0;
    for (const model of models) {
      // Left by a process killed mid-write: the real names were never touched, so these only go.
      for (const name of safeList(join(this.root, model))) if (name.startsWith(".incoming-") || name.endsWith(".partial")) rmSync(join(this.root, model, name), { recursive: true, force: true });
      this.restorePointer(model);
      const pointer = this.pointer(model);
      for (const version of this.versionDirs(model)) {
        const metadataFile = join(this.root, model, String(version), METADATA_FILE);
        if (!existsSync(metadataFile)) continue;
        const known = this.db.query("SELECT 1 FROM model_versions WHERE model = ? AND version = ?").get(model, version);
        if (known) continue;
        // The pointer says which version serves and which served before it: listed as such, not as candidates.
        const status: VersionStatus = pointer?.version === version ? "active" : pointer?.previous.includes(version) ? "retired" : "candidate";
        try {
          this.index(model, version, JSON.parse(readFileSync(metadataFile, "utf8")) as VersionMetadata, status);
          indexed++;
        } catch (error) {
          this.logger?.warn(`model ${model} version ${version}: ${metadataFile} is damaged (${messageOf(error)}); the version is left out of the list and cannot be activated`, { model, version });
        }
      }
      const active = this.activeVersion(model);
      if (active !== undefined) this.db.query("INSERT INTO active_models (model, version, activated_at) VALUES (?, ?, ?) ON CONFLICT (model) DO UPDATE SET version = excluded.version").run(model, active, Date.now());
    }
    if (rebuilding && indexed > 0) this.logger?.warn(this.rebuiltText(indexed), { models: this.root });
  }

  /** What a rebuilt index means for the user: what was found again, what serves, and what is gone for good. */
  private rebuiltText(indexed: number): string {
    const models = this.list();
    const serving = models.filter((m) => m.active !== undefined);
    const named = serving.slice(0, 5).map((m) => `${m.model} version ${m.active}`).join(", ") + (serving.length > 5 ? `, … ${serving.length - 5} more` : "");
    const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;
    return `the state database had no record of the models in ${this.root} (it is new, or was deleted): it was rebuilt from the models folder, ${count(indexed, "version")} of ${count(models.length, "model")} indexed again; serving as before: ${named || "none"}. Run history, trigger state and events from before are gone: triggers start from what they see now`;
  }
}

/** A pointer file's text as a pointer, or why it is not one. */
function readPointer(text: string): { pointer: ActivePointer } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { problem: messageOf(error) };
  }
  const pointer = value as Partial<ActivePointer> | null;
  if (!Number.isInteger(pointer?.version) || pointer!.version! < 1) return { problem: "version is not a version number" };
  if (!Array.isArray(pointer!.previous) || !pointer!.previous.every((v) => Number.isInteger(v))) return { problem: "previous is not a list of version numbers" };
  return { pointer: pointer as ActivePointer };
}

function rollbackText(pointer: ActivePointer): string {
  return pointer.previous.length ? `rollback goes to the retired versions ${pointer.previous.join(", ")}` : "there is no earlier version to roll back to";
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Hashed as it is read, in chunks: a large model is never held whole, nor hashed in one long block of the thread. */
async function sha256OfFile(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) hasher.update(chunk);
  return hasher.digest("hex");
}
