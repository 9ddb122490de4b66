import { describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { acquireLock, readLockOwner } from "../../runtime/locks/lockfile.ts";
import { processStartTime } from "../../runtime/os/process-identity.ts";
import { openState } from "../../runtime/state/database.ts";
import { migrations } from "../../runtime/state/migrations.ts";
import { tempDir } from "../helpers.ts";
import { tinyDisk, tinyDiskUnavailable } from "../tiny-disk.ts";

async function deadPid(): Promise<number> {
  const child = Bun.spawn(["true"]);
  await child.exited;
  return child.pid;
}

describe("home lock", () => {
  test("a live owner refuses a second taker, naming its pid", async () => {
    await using dir = tempDir();
    const path = join(dir.path, "edgetrain.lock");
    const sleeper = Bun.spawn(["sleep", "30"]);
    try {
      writeFileSync(
        path,
        JSON.stringify({
          pid: sleeper.pid,
          start_time: processStartTime(sleeper.pid),
          host: hostname(),
          command: "sleep 30",
          created: "then",
        }),
      );
      expect(() => acquireLock(path, "home X")).toThrow(`home X is locked by pid ${sleeper.pid} (sleep 30)`);
      expect(readLockOwner(path)?.pid).toBe(sleeper.pid);
    } finally {
      sleeper.kill();
    }
  });

  test("a lock left by a dead process is taken over", async () => {
    await using dir = tempDir();
    const path = join(dir.path, "edgetrain.lock");
    const pid = await deadPid();
    writeFileSync(
      path,
      JSON.stringify({ pid, start_time: 1, host: hostname(), command: "edgetrain run", created: "then" }),
    );
    const lock = acquireLock(path, "home");
    expect(lock.replaced?.pid).toBe(pid);
    expect(readLockOwner(path)?.pid).toBe(process.pid);
    lock.release();
    expect(() => readFileSync(path)).toThrow();
  });

  test("a lock whose pid now belongs to another process (other start time) is stale", async () => {
    await using dir = tempDir();
    const path = join(dir.path, "edgetrain.lock");
    const sleeper = Bun.spawn(["sleep", "30"]);
    try {
      writeFileSync(
        path,
        JSON.stringify({
          pid: sleeper.pid,
          start_time: processStartTime(sleeper.pid)! - 1,
          host: hostname(),
          command: "old",
          created: "then",
        }),
      );
      const lock = acquireLock(path, "home");
      expect(lock.replaced?.command).toBe("old");
      lock.release();
    } finally {
      sleeper.kill();
    }
  });

  test.skipIf(tinyDiskUnavailable !== undefined)(
    `on a full disk: fails for lack of space and leaves no file ` +
      `behind${tinyDiskUnavailable ? ` (skipped: ${tinyDiskUnavailable})` : ""}`,
    async () => {
      await using disk = tinyDisk(1);
      const home = join(disk.path, "home");
      mkdirSync(home);
      disk.fill();
      expect(() => acquireLock(join(home, "edgetrain.lock"), "home")).toThrow("ENOSPC: no space left on device");
      expect(readdirSync(home)).toEqual([]);
    },
  );
});

describe("state database", () => {
  test("is created in WAL mode with every migration applied once", async () => {
    await using dir = tempDir();
    const first = openState(join(dir.path, "state"));
    expect(first.applied).toEqual(migrations.map((m) => m.version));
    expect(first.db.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()?.journal_mode).toBe("wal");
    first.recordEvent("test.event", { n: 1 });
    first.pluginStore("cron").set("last_fire", { at: 123 });
    first.close();
    const again = openState(join(dir.path, "state"));
    expect(again.applied).toEqual([]);
    expect(again.schemaVersion).toBe(migrations.at(-1)!.version);
    expect(again.pluginStore("cron").get("last_fire")).toEqual({ at: 123 });
    expect(again.db.query("SELECT type FROM events").all()).toEqual([{ type: "test.event" }]);
    again.close();
  });

  test("a start while another process holds the database for a moment waits for it instead of failing", async () => {
    await using dir = tempDir();
    const stateDir = join(dir.path, "state");
    openState(stateDir).close();
    const file = join(stateDir, "edgetrain.db");
    // Another process locks the file for 300 ms, as a connection's checkpoint on close does.
    const holder = Bun.spawn(
      [
        process.execPath,
        "-e",
        `const db = new (require("bun:sqlite").Database)(${JSON.stringify(file)});
         db.exec("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;");
         db.exec("INSERT INTO events (at, type, data) VALUES (1, 'held', '{}'); COMMIT;");
         console.log("held");
         setTimeout(() => db.close(), 300);`,
      ],
      { stdout: "pipe" },
    );
    expect(await holder.stdout.getReader().read()).toMatchObject({ done: false });
    const state = openState(stateDir);
    expect(state.db.query("SELECT type FROM events").all()).toEqual([{ type: "held" }]);
    state.close();
    expect(await holder.exited).toBe(0);
  });

  test("once the home is lost, writes through the policy are dropped and any other is refused", async () => {
    await using dir = tempDir();
    const state = openState(dir.path);
    state.recordEvent("before", {});
    state.refuseWrites();
    state.recordEvent("after", {});
    state.pluginStore("p").set("k", 1);
    expect(state.writes.attempt("usage", () => void state.db.run("DELETE FROM events"))).toBe(false);
    expect(() => state.db.run("DELETE FROM events")).toThrow("readonly");
    expect(state.db.query("SELECT type FROM events").all()).toEqual([{ type: "before" }]);
    expect(state.pluginStore("p").get("k")).toBeUndefined();
    state.close();
  });

  test("a database from a newer edgetrain is refused, not downgraded", async () => {
    await using dir = tempDir();
    const state = openState(join(dir.path, "state"));
    state.db.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)").run();
    state.close();
    expect(() => openState(join(dir.path, "state"))).toThrow("schema version 999, newer than this edgetrain knows");
  });

  test(
    "a file that is not a database is refused with its name and what moving it away would lose; it is left as it " +
      "was",
    async () => {
      await using dir = tempDir();
      const file = join(dir.path, "state", "edgetrain.db");
      mkdirSync(join(dir.path, "state"));
      const garbage = new Uint8Array(8192).map((_, i) => (i * 7919) % 251);
      writeFileSync(file, garbage);
      let error: unknown;
      try {
        openState(join(dir.path, "state"));
      } catch (caught) {
        error = caught;
      }
      expect(error).toMatchObject({
        code: "state_failed",
        message: `cannot open state database ${file}: file is not a database`,
        details: { file },
      });
      expect((error as { hint: string }).hint).toContain(
        "models and their versions are indexed again from the models folder",
      );
      expect(new Uint8Array(readFileSync(file))).toEqual(garbage);
    },
  );
});
