import type { Database } from "bun:sqlite";
import { join } from "node:path";
import { MODEL_FILE, type ModelVersion, type VersionMetadata, type VersionStatus } from "./versions.ts";

/** A row of the index, parsed, with the last record composed from it. */
interface IndexRow {
  status: VersionStatus;
  path: string;
  metadata?: VersionMetadata;
  composed?: ModelVersion;
}

/**
 * The store's index of versions in the state database (`model_versions`), for listing; the files and the
 * pointer stay the truth. Parsed rows are kept: every predict asks for the active version.
 */
export class VersionIndex {
  private readonly rows = new Map<string, IndexRow>();

  constructor(
    private readonly db: Database,
    private readonly root: string,
  ) {}

  insert(model: string, version: number, metadata: VersionMetadata, status: VersionStatus): void {
    this.db
      .query(
        "INSERT OR REPLACE INTO model_versions (model, version, job, key, run_id, path, sha256, status, metrics, " +
          "metadata, created_at) VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?)",
      )
      .run(
        model,
        version,
        metadata.job ?? null,
        metadata.key ?? null,
        join(this.root, model, String(version), MODEL_FILE),
        metadata.sha256,
        status,
        JSON.stringify(metadata.metrics),
        JSON.stringify(metadata),
        Date.parse(metadata.created_at),
      );
    this.forget(model, version);
  }

  setStatus(
    model: string,
    version: number,
    status: VersionStatus,
    note?: string,
    gate?: Record<string, unknown>,
  ): void {
    let sql = "UPDATE model_versions SET status = ?";
    const args: Array<string | number> = [status];
    if (note !== undefined) (sql += ", metadata = json_set(coalesce(metadata, '{}'), '$.note', ?)"), args.push(note);
    if (gate !== undefined)
      (sql += ", metadata = json_set(coalesce(metadata, '{}'), '$.gate', json(?))"), args.push(JSON.stringify(gate));
    this.db.query(`${sql} WHERE model = ? AND version = ?`).run(...args, model, version);
    this.forget(model, version);
  }

  note(model: string, version: number, gate: Record<string, unknown>): void {
    this.db
      .query(
        "UPDATE model_versions SET metadata = json_set(coalesce(metadata, '{}'), '$.gate', json(?)) WHERE model = ? " +
          "AND version = ?",
      )
      .run(JSON.stringify(gate), model, version);
    this.forget(model, version);
  }

  /** Drops the parsed row, after its version changed or left. */
  forget(model: string, version: number): void {
    this.rows.delete(`${model}@${version}`);
  }

  transaction(change: () => void): void {
    this.db.transaction(change)();
  }

  models(): Array<{ model: string; versions: number; latest: number }> {
    return this.db
      .query<{ model: string; versions: number; latest: number }, []>(
        "SELECT model, count(*) AS versions, max(version) AS latest FROM model_versions GROUP BY model ORDER BY model",
      )
      .all();
  }

  modelNames(): string[] {
    return this.db
      .query<{ model: string }, []>("SELECT DISTINCT model FROM model_versions")
      .all()
      .map((row) => row.model);
  }

  /** The model's version numbers, newest first. */
  versionNumbers(model: string): number[] {
    return this.db
      .query<{ version: number }, [string]>("SELECT version FROM model_versions WHERE model = ? ORDER BY version DESC")
      .all(model)
      .map((row) => row.version);
  }

  latest(model: string): number {
    const row = this.db
      .query<{ latest: number | null }, [string]>("SELECT max(version) AS latest FROM model_versions WHERE model = ?")
      .get(model);
    return row?.latest ?? 0;
  }

  /** The version's record; its status follows the pointer (`active`), whatever the row says. */
  record(model: string, version: number, active: number | undefined): ModelVersion | undefined {
    const row = this.row(model, version);
    if (!row) return undefined;
    const status = active === version ? "active" : row.status === "active" ? "retired" : row.status;
    if (row.composed?.status !== status)
      row.composed = { ...(row.metadata as VersionMetadata), model, version, status, path: row.path };
    return row.composed;
  }

  private row(model: string, version: number): IndexRow | undefined {
    const id = `${model}@${version}`;
    let row = this.rows.get(id);
    if (!row) {
      const stored = this.db
        .query<{ status: VersionStatus; path: string; metadata: string | null }, [string, number]>(
          "SELECT status, path, metadata FROM model_versions WHERE model = ? AND version = ?",
        )
        .get(model, version);
      if (!stored) return undefined;
      row = {
        status: stored.status,
        path: stored.path,
        metadata: stored.metadata ? (JSON.parse(stored.metadata) as VersionMetadata) : undefined,
      };
      this.rows.set(id, row);
    }
    return row;
  }
}
