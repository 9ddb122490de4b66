import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { EdgetrainError, messageOf } from "../errors.ts";
import { type WritePolicy, writeNow } from "../files/disk-space.ts";
import type { PluginStore } from "../plugin-api.ts";
import { migrations } from "./migrations.ts";

export interface StateDatabase {
  db: Database;
  file: string;
  /** Versions applied by this open, for the log. */
  applied: number[];
  schemaVersion: number;
  /** What becomes of a write the disk has no room for: the daemon retries events and run records once space returns. */
  writes: WritePolicy;
  recordEvent(type: string, data: Record<string, unknown>, at?: number): void;
  pluginStore(plugin: string): PluginStore;
  /**
   * The home is gone, and its file with it: writes through `writes` are dropped from now on, any other one is
   * refused (SQLITE_READONLY).
   */
  refuseWrites(): void;
  close(): void;
}

/** Opens (or creates) `state/edgetrain.db` in WAL mode and applies pending migrations. */
export function openState(stateDir: string, writes: WritePolicy = writeNow): StateDatabase {
  mkdirSync(stateDir, { recursive: true });
  const file = join(stateDir, "edgetrain.db");
  let db: Database;
  try {
    db = new Database(file, { create: true, strict: true });
    // The timeout first: another process's connection closing (its checkpoint locks the file for a moment) must
    // be waited for by the journal mode's own read too, not fail the start.
    db.exec(
      "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
    );
  } catch (error) {
    throw new EdgetrainError("state_failed", `cannot open state database ${file}: ${messageOf(error)}`, {
      details: { file },
      cause: error,
      // What a fresh database loses and keeps, so that moving the file away is a decision, not a guess.
      hint:
        "moved away, it is started afresh: models and their versions are indexed again from the models folder; " +
        "run history, trigger state and events start empty",
    });
  }
  const applied = migrate(db, file);
  const insertEvent = db.prepare("INSERT INTO events (at, type, data) VALUES (?, ?, ?)");
  // Once the home is gone, the writes that go through the policy (events, run records, plugin state, usage) are
  // dropped rather than thrown: a shutdown that still records its runs' ends must not fail on each of them.
  let refused = false;
  const guarded: WritePolicy = {
    retry: (what, write) => void (refused || writes.retry(what, write)),
    attempt: (what, write) => !refused && writes.attempt(what, write),
  };
  return {
    db,
    file,
    applied,
    schemaVersion: currentVersion(db),
    writes: guarded,
    recordEvent: (type, data, at = Date.now()) => {
      const json = JSON.stringify(data);
      guarded.retry(`event ${type}`, () => void insertEvent.run(at, type, json));
    },
    pluginStore: (plugin) => pluginStore(db, plugin, guarded),
    refuseWrites: () => {
      refused = true;
      // Closing would not stop statements prepared before: query_only refuses the writes made outside `writes` too.
      db.exec("PRAGMA query_only = ON");
    },
    // Released now, statements and all: a lazy close would checkpoint later, under another process opening it.
    close: () => db.close(true),
  };
}

function currentVersion(db: Database): number {
  const row = db.query<{ version: number | null }, []>("SELECT max(version) AS version FROM schema_migrations").get();
  return row?.version ?? 0;
}

/** Applies the numbered `list` not yet applied to `db`; the hub's registry has its own list. */
export function migrate(db: Database, file: string, list: typeof migrations = migrations): number[] {
  db.exec(
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at " +
      "INTEGER NOT NULL)",
  );
  const from = currentVersion(db);
  const newest = list.at(-1)?.version ?? 0;
  if (from > newest) {
    throw new EdgetrainError(
      "state_failed",
      `state database ${file} has schema version ${from}, newer than this edgetrain knows (${newest})`,
      {
        hint: "run the newer edgetrain, or use another home",
      },
    );
  }
  const applied: number[] = [];
  for (const migration of list) {
    if (migration.version <= from) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(
        migration.version,
        migration.name,
        Date.now(),
      );
    })();
    applied.push(migration.version);
  }
  return applied;
}

/** A plugin's key-value store in `plugin_store`; training threads open it on their own connection. */
export function pluginStore(db: Database, plugin: string, writes: WritePolicy = writeNow): PluginStore {
  const get = db.prepare<{ value: string }, [string, string]>(
    "SELECT value FROM plugin_store WHERE plugin = ? AND key = ?",
  );
  const set = db.prepare(
    "INSERT INTO plugin_store (plugin, key, value) VALUES (?, ?, ?) ON CONFLICT (plugin, key) DO UPDATE SET value = " +
      "excluded.value",
  );
  const remove = db.prepare("DELETE FROM plugin_store WHERE plugin = ? AND key = ?");
  const keys = db.prepare<{ key: string }, [string]>("SELECT key FROM plugin_store WHERE plugin = ? ORDER BY key");
  return {
    get: <T>(key: string) => {
      const row = get.get(plugin, key);
      return row ? (JSON.parse(row.value) as T) : undefined;
    },
    set: (key, value) => {
      const json = JSON.stringify(value);
      writes.retry(`the state of ${plugin}`, () => void set.run(plugin, key, json));
    },
    delete: (key) => writes.retry(`the state of ${plugin}`, () => void remove.run(plugin, key)),
    keys: () => keys.all(plugin).map((row) => row.key),
  };
}
