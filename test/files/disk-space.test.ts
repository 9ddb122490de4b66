import { describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { isDiskFull } from "../../runtime/files/disk-full.ts";
import { DiskSpace } from "../../runtime/files/disk-space.ts";
import { type LogLine, LogSink } from "../../runtime/log/logger.ts";
import { SelfUsageRecorder } from "../../runtime/offpeak/self-usage.ts";
import { openState } from "../../runtime/state/database.ts";
import { RunRecorder } from "../../runtime/training/run-recorder.ts";
import { FakeClock } from "../fake-clock.ts";
import { tinyDisk, tinyDiskUnavailable } from "../tiny-disk.ts";

describe("isDiskFull", () => {
  test("ENOSPC, EDQUOT and SQLITE_FULL, as codes, as a cause, or as the text a training thread sends back", () => {
    expect(isDiskFull(Object.assign(new Error("no space left on device, write"), { code: "ENOSPC" }))).toBe(true);
    expect(isDiskFull(Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" }))).toBe(true);
    expect(
      isDiskFull(new Error("could not deploy", { cause: Object.assign(new Error("x"), { code: "EDQUOT" }) })),
    ).toBe(true);
    expect(isDiskFull("ENOSPC: no space left on device, write")).toBe(true);
    expect(isDiskFull(Object.assign(new Error("permission denied"), { code: "EACCES" }))).toBe(false);
    expect(isDiskFull(Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" }))).toBe(false);
    expect(isDiskFull(undefined)).toBe(false);
  });
});

describe.skipIf(tinyDiskUnavailable !== undefined)(
  `on a real full disk${tinyDiskUnavailable ? ` (skipped: ${tinyDiskUnavailable})` : ""}`,
  () => {
    test(
      "events, run records and usage counts wait for space, nothing throws, and all is written once space " + "returns",
      async () => {
        await using disk = tinyDisk(4);
        const home = join(disk.path, "home");
        mkdirSync(home);
        const clock = new FakeClock(Date.now());
        const lines: LogLine[] = [];
        const logger = new LogSink({ level: "info", onLine: (line) => lines.push(line) }).logger();
        const space = new DiskSpace({ home, logger, clock });
        const state = openState(join(home, "state"), space);
        // Closed before the disk is unmounted, pass or fail, with its statements: an open database keeps the mount
        // busy.
        await using _closed = { [Symbol.asyncDispose]: async () => (space.dispose(), state.db.close(true)) };
        const usage = new SelfUsageRecorder(state.db, space);
        const run = new RunRecorder(state, {
          id: "run-1",
          job: "activity",
          strategy: "random-forest",
          trigger: "manual",
          runDir: join(home, "runs", "run-1"),
        });
        state.recordEvent("before", {});
        usage.request(clock.now());

        disk.fill();
        state.recordEvent("while full", { n: 1 });
        expect(space.full).toBe(true);
        run.progress().update(3, 10, "tree 3");
        run.failed(new Error("cancelled: the disk filled"), true);
        usage.flush();
        state.pluginStore("trigger/new-data/activity/0").set("snapshot", { files: 3 });
        const errors = lines.filter((line) => line.level === "error");
        expect(errors).toHaveLength(1);
        expect(errors[0]!.msg).toBe(
          `the disk of the home ${home} is full (0 B free): no new runs start; predictions go on; retrying every ` +
            `1–10 ` +
            `s until 2.0 MB are free`,
        );
        expect(space.status()).toMatchObject({
          home,
          full: true,
          free_bytes: 0,
          message: `the disk of the home ${home} is full (0 B free)`,
          waiting_writes: 3,
          dropped_writes: 2,
        });

        // No space yet: the writes keep waiting, backing off.
        clock.advance(5000);
        expect(space.full).toBe(true);

        disk.free();
        clock.advance(10_000);
        expect(space.full).toBe(false);
        expect(space.status()).toMatchObject({ full: false, waiting_writes: 0, dropped_writes: 0 });
        expect(lines.at(-1)!.msg).toMatch(
          new RegExp(`^the disk of the home ${home} has space again \\([\\d.]+ MB free\\): runs start again$`),
        );
        expect(
          state.db
            .query<{ type: string }, []>("SELECT type FROM events ORDER BY id")
            .all()
            .map((e) => e.type),
        ).toEqual(["before", "while full"]);
        expect(state.db.query<{ status: string; error: string }, []>("SELECT status, error FROM runs").get()).toEqual({
          status: "cancelled",
          error: "cancelled: the disk filled",
        });
        expect(state.pluginStore("trigger/new-data/activity/0").get("snapshot")).toEqual({ files: 3 });
        // The hour's request, kept while the flush could not write it, goes with the next one.
        usage.flush();
        expect(state.db.query<{ requests: number }, []>("SELECT requests FROM usage_hours").get()).toEqual({
          requests: 1,
        });
        await run.written();
      },
    );
  },
);
