import type { Database } from "bun:sqlite";
import type { ReservedSQL, SQL } from "bun";
import { EdgetrainError, messageOf } from "../../errors.ts";
import type { Logger } from "../../plugin-api.ts";
import { registryMigrations } from "./registry-migrations.ts";

/** The registry's tables kept in PostgreSQL, with their keys; heartbeats have their own series. */
export const MIRRORED: Readonly<Record<string, readonly string[]>> = {
  devices: ["id"],
  device_groups: ["name", "device"],
  device_models: ["device", "model"],
  model_files: ["model", "version"],
  rollouts: ["id"],
  rollout_devices: ["rollout", "device"],
  reports: ["id"],
  commands: ["id"],
  score_summaries: ["report"],
};
/** Parents first, so that a copy into SQLite meets its foreign keys. */
const TABLES = Object.keys(MIRRORED);
const SCHEMA_VERSION = registryMigrations.at(-1)!.version;
const BATCH = 5000;

interface Column {
  name: string;
  type: string;
}
interface Change {
  seq: number;
  tbl: string;
  keys: string;
  row: string | null;
}

const pgType = (sqliteType: string) =>
  /INT/i.test(sqliteType) ? "BIGINT" : /REAL/i.test(sqliteType) ? "DOUBLE PRECISION" : "TEXT";
const ident = (name: string) => `"${name}"`;

/**
 * Keeps the registry's tables in PostgreSQL (`hub.database`). The hub works on its SQLite copy, which
 * triggers make log every change; push() sends the changes in order, the last one per row, in one
 * PostgreSQL transaction, and forgets them only once committed. A change not yet sent survives a crash in
 * the copy's file and is sent at the next start, before the copy is loaded again from PostgreSQL.
 */
export class RegistryMirror {
  private pushing?: Promise<void>;
  private failing = false;

  private constructor(
    private readonly sql: SQL,
    /** Holds the advisory lock that keeps a second hub off the same database. */
    private readonly lock: ReservedSQL,
    private readonly columns: Record<string, Column[]>,
    private readonly logger: Logger,
  ) {}

  /** Connects, takes the database for this hub alone, and makes or checks the tables. */
  static async connect(sql: SQL, shown: string, logger: Logger, columns: Record<string, Column[]>) {
    const lock = await sql.reserve();
    try {
      const [row] = await lock`SELECT pg_try_advisory_lock(hashtext('edgetrain hub registry')) AS ok`;
      if (!(row as { ok: boolean }).ok) {
        throw new EdgetrainError("refused", `another hub keeps its registry in ${shown}`, {
          hint: "give each hub its own database",
        });
      }
      const mirror = new RegistryMirror(sql, lock, columns, logger);
      await mirror.makeTables(shown);
      return mirror;
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  /** Whether PostgreSQL holds a registry yet. */
  async holdsAny(): Promise<boolean> {
    for (const table of TABLES) {
      const rows = await this.sql.unsafe(`SELECT 1 FROM ${ident(`hub_${table}`)} LIMIT 1`);
      if (rows.length > 0) return true;
    }
    return false;
  }

  /** Copies every row from PostgreSQL into the SQLite copy, before its triggers exist. */
  async loadInto(db: Database): Promise<void> {
    for (const table of TABLES) {
      const columns = this.columns[table]!;
      const rows = await this.sql.unsafe(`SELECT row_to_json(t)::text AS r FROM ${ident(`hub_${table}`)} t`);
      const names = columns.map((c) => c.name).join(", ");
      const insert = db.query(`INSERT INTO ${table} (${names}) VALUES (${columns.map(() => "?").join(", ")})`);
      db.transaction(() => {
        for (const { r } of rows as Array<{ r: string }>) {
          const row = JSON.parse(r) as Record<string, string | number | null>;
          insert.run(...columns.map((c) => row[c.name] ?? null));
        }
      })();
    }
  }

  /** From here on every change to a mirrored table of `db` is logged for push(). */
  static track(db: Database, columns: Record<string, Column[]>): void {
    db.exec("CREATE TABLE IF NOT EXISTS mirror_changes (seq INTEGER PRIMARY KEY, tbl TEXT, keys TEXT, row TEXT)");
    for (const [table, keys] of Object.entries(MIRRORED)) {
      const object = (of: "NEW" | "OLD", names: readonly string[]) =>
        `json_object(${names.map((name) => `'${name}', ${of}.${name}`).join(", ")})`;
      const row = object(
        "NEW",
        columns[table]!.map((c) => c.name),
      );
      const log = (keysOf: "NEW" | "OLD", value: string) =>
        `INSERT INTO mirror_changes (tbl, keys, row) VALUES ('${table}', ${object(keysOf, keys)}, ${value});`;
      const moved = keys.map((key) => `OLD.${key} IS NOT NEW.${key}`).join(" OR ");
      db.exec(`
        CREATE TRIGGER IF NOT EXISTS mirror_${table}_insert AFTER INSERT ON ${table} BEGIN ${log("NEW", row)} END;
        CREATE TRIGGER IF NOT EXISTS mirror_${table}_update AFTER UPDATE ON ${table} BEGIN
          INSERT INTO mirror_changes (tbl, keys, row) SELECT '${table}', ${object("OLD", keys)}, NULL WHERE ${moved};
          ${log("NEW", row)}
        END;
        CREATE TRIGGER IF NOT EXISTS mirror_${table}_delete AFTER DELETE ON ${table} BEGIN ${log("OLD", "NULL")} END;`);
    }
  }

  /** Sends what changed since the last push; one push at a time, the next one picks up what came meanwhile. */
  push(db: Database): Promise<void> {
    this.pushing ??= this.pushAll(db).finally(() => (this.pushing = undefined));
    return this.pushing;
  }

  /** Sends everything, and says why not: at a stop or a start, a change left unsent must be known. */
  async drain(db: Database): Promise<void> {
    await this.pushing;
    if (pending(db) > 0) await this.pushAll(db, true);
  }

  async close(): Promise<void> {
    this.lock.release();
    await this.sql.close();
  }

  private async pushAll(db: Database, strict = false): Promise<void> {
    try {
      for (;;) {
        const changes = db
          .query<Change, [number]>("SELECT seq, tbl, keys, row FROM mirror_changes ORDER BY seq LIMIT ?")
          .all(BATCH);
        if (changes.length === 0) break;
        await this.apply(changes);
        db.query("DELETE FROM mirror_changes WHERE seq <= ?").run(changes.at(-1)!.seq);
        if (changes.length < BATCH) break;
      }
      if (this.failing) this.logger.info("the registry reaches PostgreSQL again", { waiting: pending(db) });
      this.failing = false;
    } catch (error) {
      if (strict) throw error;
      // Said once per outage; the changes wait in the copy and go with the next push.
      if (!this.failing) {
        this.logger.error("registry changes not stored in PostgreSQL yet", {
          error: messageOf(error),
          waiting: pending(db),
        });
      }
      this.failing = true;
    }
  }

  private async apply(changes: Change[]): Promise<void> {
    const last = new Map<string, Change>();
    for (const change of changes) last.set(`${change.tbl}\u0000${change.keys}`, change);
    await this.sql.begin(async (tx) => {
      for (const table of TABLES) {
        const mine = [...last.values()].filter((change) => change.tbl === table);
        const gone = mine.filter((change) => change.row === null).map((change) => change.keys);
        const kept = mine.filter((change) => change.row !== null).map((change) => change.row!);
        const target = ident(`hub_${table}`);
        const keys = MIRRORED[table]!;
        if (gone.length > 0) {
          await tx.unsafe(
            `DELETE FROM ${target} t USING json_populate_recordset(NULL::${target}, ($1::text)::json) d
             WHERE ${keys.map((key) => `t.${ident(key)} = d.${ident(key)}`).join(" AND ")}`,
            [`[${gone.join(",")}]`],
          );
        }
        if (kept.length > 0) {
          const all = this.columns[table]!.map((c) => c.name);
          const names = all.map(ident).join(", ");
          const updates = all
            .filter((name) => !keys.includes(name))
            .map((name) => `${ident(name)} = EXCLUDED.${ident(name)}`);
          const onConflict = updates.length ? `UPDATE SET ${updates.join(", ")}` : "NOTHING";
          await tx.unsafe(
            `INSERT INTO ${target} (${names})
             SELECT ${names} FROM json_populate_recordset(NULL::${target}, ($1::text)::json)
             ON CONFLICT (${keys.map(ident).join(", ")}) DO ${onConflict}`,
            [`[${kept.join(",")}]`],
          );
        }
      }
    });
  }

  private async makeTables(shown: string): Promise<void> {
    await this.sql.unsafe("CREATE TABLE IF NOT EXISTS hub_registry_schema (version INTEGER NOT NULL)").simple();
    const [found] = (await this.sql`SELECT max(version) AS version FROM hub_registry_schema`) as Array<{
      version: number | null;
    }>;
    if ((found?.version ?? 0) > SCHEMA_VERSION) {
      throw new EdgetrainError(
        "state_failed",
        `the registry in ${shown} has schema version ${found!.version}, newer than this edgetrain knows`,
        { hint: "run the newer edgetrain's hub, or give this one another database" },
      );
    }
    for (const [table, keys] of Object.entries(MIRRORED)) {
      const columns = this.columns[table]!;
      const target = ident(`hub_${table}`);
      await this.sql.unsafe(
        `CREATE TABLE IF NOT EXISTS ${target} (${columns.map((c) => `${ident(c.name)} ${pgType(c.type)}`).join(", ")},
           PRIMARY KEY (${keys.map(ident).join(", ")}))`,
      );
      // A later registry migration's new columns.
      for (const column of columns) {
        const added = `${ident(column.name)} ${pgType(column.type)}`;
        await this.sql.unsafe(`ALTER TABLE ${target} ADD COLUMN IF NOT EXISTS ${added}`);
      }
    }
    if ((found?.version ?? 0) < SCHEMA_VERSION)
      await this.sql`INSERT INTO hub_registry_schema (version) VALUES (${SCHEMA_VERSION})`;
  }
}

/** The mirrored tables' columns, as the registry's migrations make them. */
export function mirroredColumns(db: Database): Record<string, Column[]> {
  return Object.fromEntries(
    TABLES.map((table) => [
      table,
      db.query<Column, []>(`SELECT name, type FROM pragma_table_info('${table}') ORDER BY cid`).all(),
    ]),
  );
}

/** Changes the copy has not sent yet; a copy without the log has none. */
export function pending(db: Database): number {
  try {
    return db.query<{ n: number }, []>("SELECT count(*) AS n FROM mirror_changes").get()?.n ?? 0;
  } catch {
    return 0;
  }
}
