import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DiskSpace } from "../../runtime/files/disk-space.ts";
import { HomeWatch } from "../../runtime/files/home-watch.ts";
import { acquireLock } from "../../runtime/locks/lockfile.ts";
import { type LogLine, LogSink } from "../../runtime/log/logger.ts";
import { watchHome } from "../../runtime/services/daemon-home.ts";
import { openState } from "../../runtime/state/database.ts";
import { FakeClock } from "../fake-clock.ts";
import { tempDir } from "../helpers.ts";
import { tinyDisk, tinyDiskUnavailable } from "../tiny-disk.ts";

/** A home with a lock and a state database, watched; check() is called by the test, never by a timer. */
function watchedHome(home: string) {
  mkdirSync(join(home, "state"), { recursive: true });
  const lock = join(home, "edgetrain.lock");
  const database = join(home, "state/edgetrain.db");
  writeFileSync(lock, "{}");
  writeFileSync(database, "");
  const watch = new HomeWatch({
    home,
    files: [lock, database],
    writable: [home, join(home, "state")],
    onLost: () => {},
    everyMs: 3_600_000,
  });
  return { watch, lock, database, [Symbol.dispose]: () => watch.dispose() };
}

test("a whole home is quiet; a state database replaced or deleted is named", async () => {
  await using dir = tempDir();
  using home = watchedHome(dir.path);
  expect(home.watch.check()).toBeUndefined();
  // Another file put in its place (a backup restored): made before the old one goes, so its inode differs.
  writeFileSync(`${home.database}.restored`, "");
  renameSync(`${home.database}.restored`, home.database);
  expect(home.watch.check()).toBe("state/edgetrain.db was replaced by another file");
  rmSync(home.database);
  expect(home.watch.check()).toBe("state/edgetrain.db is gone");
});

test("the home deleted whole is named as the home", async () => {
  await using dir = tempDir();
  const path = join(dir.path, "home");
  using home = watchedHome(path);
  rmSync(path, { recursive: true });
  expect(home.watch.check()).toBe("the folder is gone");
});

const skipped = tinyDiskUnavailable ? ` (skipped: ${tinyDiskUnavailable})` : "";
describe.skipIf(tinyDiskUnavailable !== undefined)(`on a file system of its own${skipped}`, () => {
  test("a home remounted read-only is no longer writable", async () => {
    await using disk = tinyDisk(1);
    using home = watchedHome(disk.path);
    const remount = spawnSync("mount", ["-o", "remount,ro", disk.path], { encoding: "utf8" });
    expect(remount.stderr).toBe("");
    expect(home.watch.check()).toBe("the folder is no longer writable (EROFS)");
  });

  test("a write a full disk refuses once the home is gone is the home's loss, said once, not a full disk", async () => {
    await using disk = tinyDisk(4);
    const home = join(disk.path, "home");
    mkdirSync(home);
    const lines: LogLine[] = [];
    const logger = new LogSink({ level: "info", onLine: (line) => lines.push(line) }).logger();
    const space = new DiskSpace({ home, logger, clock: new FakeClock(Date.now()) });
    const state = openState(join(home, "state"), space);
    const lock = acquireLock(join(home, "edgetrain.lock"), `home ${home}`);
    const lost: string[] = [];
    const watch = watchHome(home, { lock, state, disk: space }, (reason) => lost.push(reason));
    // Closed before the disk is unmounted, pass or fail: an open database keeps the mount busy.
    await using _closed = { [Symbol.asyncDispose]: async () => (watch.dispose(), state.db.close(true)) };

    rmSync(home, { recursive: true });
    // The deleted database's file lives on while it is open: a disk with no room left refuses its next pages.
    disk.fill();
    for (let n = 0; n < 200; n++) state.recordEvent("after the home went", { n });
    expect(lost).toEqual(["the folder is gone"]);
    expect(space.full).toBe(false);
    expect(lines.filter((line) => line.level === "error")).toEqual([]);
  });
});
