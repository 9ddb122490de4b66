import { Database } from "bun:sqlite";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { SQL } from "bun";
import { EdgetrainError, messageOf } from "../../errors.ts";
import type { Logger } from "../../plugin-api.ts";
import { migrate } from "../../state/database.ts";
import { PostgresHeartbeats, shownDatabase } from "./heartbeat-series.ts";
import { Registry } from "./registry.ts";
import { registryMigrations } from "./registry-migrations.ts";
import { MIRRORED, mirroredColumns, RegistryMirror } from "./registry-mirror.ts";

/** The hub's working copy of a registry that PostgreSQL holds; made again from PostgreSQL at every start. */
export const POSTGRES_COPY = "hub-postgres.db";

/**
 * The registry kept in PostgreSQL (`hub.database: postgres://…`): devices, their info and models, model
 * files, rollouts and their devices, reports and commands, and the heartbeats' series. The hub reads and
 * writes a SQLite copy in its home, loaded from PostgreSQL at start, and sends every change on within a
 * flush. A PostgreSQL without a registry yet takes the home's own `hub.db`, if there is one.
 */
export async function openPostgresRegistry(home: string, url: string, logger: Logger): Promise<Registry> {
  const shown = shownDatabase(url);
  const sql = new SQL(url);
  const columns = schemaColumns();
  let mirror: RegistryMirror;
  try {
    mirror = await RegistryMirror.connect(sql, shown, logger, columns);
  } catch (error) {
    await sql.close().catch(() => undefined);
    if (error instanceof EdgetrainError) throw error;
    throw new EdgetrainError("state_failed", `cannot keep the hub's registry in ${shown}: ${messageOf(error)}`, {
      hint: "check hub.database (--database), and that PostgreSQL runs and takes the user",
    });
  }
  const series = new PostgresHeartbeats(url, (error) =>
    logger.error("heartbeats not stored", { error: messageOf(error) }),
  );
  let registry: Registry | undefined;
  try {
    const copy = join(home, POSTGRES_COPY);
    await sendLeftovers(copy, mirror);
    for (const suffix of ["", "-wal", "-shm"]) rmSync(copy + suffix, { force: true });
    await series.open();
    registry = new Registry(copy, () => series, mirror);
    const own = join(home, "hub.db");
    if (await mirror.holdsAny()) {
      await mirror.loadInto(registry.db);
      RegistryMirror.track(registry.db, columns);
    } else {
      RegistryMirror.track(registry.db, columns);
      if (existsSync(own)) takeOver(registry.db, own, columns, logger);
    }
    return registry;
  } catch (error) {
    if (registry) await registry.close().catch(() => undefined);
    else await Promise.all([series.close(), mirror.close()]).catch(() => undefined);
    throw error;
  }
}

/** Changes a previous run could not send (PostgreSQL away, or a crash) go first, or the start fails. */
async function sendLeftovers(copy: string, mirror: RegistryMirror): Promise<void> {
  if (!existsSync(copy)) return;
  const db = new Database(copy);
  try {
    await mirror.drain(db);
  } finally {
    db.close();
  }
}

/**
 * Copies the home's SQLite registry in; the triggers log every row, so the first push stores it all. One
 * an older hub left is brought to this schema first, as this hub would open it.
 */
function takeOver(db: Database, file: string, columns: ReturnType<typeof schemaColumns>, logger: Logger): void {
  const own = new Database(file, { strict: true });
  try {
    migrate(own, file, registryMigrations);
  } finally {
    own.close();
  }
  db.query("ATTACH DATABASE ? AS own").run(file);
  try {
    db.transaction(() => {
      for (const table of Object.keys(MIRRORED)) {
        const names = columns[table]!.map((column) => column.name).join(", ");
        db.exec(`INSERT INTO main.${table} (${names}) SELECT ${names} FROM own.${table}`);
      }
    })();
  } finally {
    db.exec("DETACH DATABASE own");
  }
  logger.info("the hub's registry moves to PostgreSQL", { from: file });
}

/** The mirrored tables' columns, read from an empty registry made in memory. */
function schemaColumns() {
  const db = new Database(":memory:");
  try {
    migrate(db, ":memory:", registryMigrations);
    return mirroredColumns(db);
  } finally {
    db.close();
  }
}
