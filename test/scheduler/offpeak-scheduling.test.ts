import { expect, test } from "bun:test";
import { join } from "node:path";
import { resolveProfile } from "../../runtime/config/validate-profile.ts";
import { UnattendedAsker } from "../../runtime/conflicts/clearance.ts";
import { EventBus } from "../../runtime/events/bus.ts";
import { Governor } from "../../runtime/governor/governor.ts";
import { governorLimits } from "../../runtime/governor/limits.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import { Scheduler } from "../../runtime/scheduler/scheduler.ts";
import { openState } from "../../runtime/state/database.ts";
import { getRun, listRuns } from "../../runtime/state/runs.ts";
import { JobRunner } from "../../runtime/training/job-runner.ts";
import { FakeClock } from "../fake-clock.ts";
import { tempDir, testEnvironment } from "../helpers.ts";

const HOUR = 3_600_000;

test("a job only_in off-peak waits for the learned window (injected clock, a week in milliseconds)", async () => {
  await using dir = tempDir();
  const home = join(dir.path, "home");
  const saturdayNoon = Date.parse("2026-11-21T12:00:00Z");
  // Four weeks of activity: busy, but nobody on Sunday 02:00–05:00.
  const lines = ["timestamp,players"];
  for (let at = saturdayNoon - 28 * 24 * HOUR; at < saturdayNoon; at += HOUR) {
    const d = new Date(at);
    const quiet = d.getUTCDay() === 0 && d.getUTCHours() >= 2 && d.getUTCHours() < 5;
    lines.push(`${d.toISOString()},${quiet ? 0 : 20 + d.getUTCHours()}`);
  }
  dir.write("home/data/usage.csv", `${lines.join("\n")}\n`);
  for (let n = 1; n <= 2; n++)
    dir.write(
      `home/data/athletes/p1/TR${n}_x.csv`,
      `hr,label\n${Array.from({ length: 30 }, (_, i) => `${i},${i % 2 ? "a" : "b"}`).join("\n")}\n`,
    );
  const file = dir.write(
    "home/profile.yaml",
    `paths:\n  home: ${home}\nusage:\n  source: csv\n  csv: { path: usage.csv }\n  timezone: UTC\n  min_data_points: ` +
      `100\n  window_hours: 3\n  windows: 1\njobs:\n  weekly:\n    strategy: random-forest\n    options: { ` +
      `n_estimators: 2 }\n    data: { source: sessions, path: athletes, debounce: 0 }\n    constraints: { only_in: ` +
      `off-peak }\n`,
  );
  const resolved = await resolveProfile(file, testEnvironment(dir.path));
  const { profile, paths, registry } = resolved;
  const state = openState(paths!.state);
  const clock = new FakeClock(saturdayNoon);
  const governor = new Governor(governorLimits(profile!.governor));
  governor.observe({
    at: clock.now(),
    cpuPercent: 1,
    totalCpuPercent: 1,
    ownCpuPercent: 0,
    memoryPercent: 10,
    load1: 0,
  });
  const bus = new EventBus();
  const runner = new JobRunner({ profile: profile!, paths: paths!, registry, state, logger: silentLogger, governor });
  const scheduler = new Scheduler({
    profile: profile!,
    paths: paths!,
    registry,
    state,
    runner,
    governor,
    logger: silentLogger,
    events: bus,
    clock,
    asker: new UnattendedAsker(),
  });
  try {
    await scheduler.start(false);
    expect(scheduler.offPeak!.windows.map((w) => w.label)).toEqual(["Sun 02:00–05:00"]);
    await scheduler.fired("weekly", "manual: test");
    expect(scheduler.queued()).toHaveLength(1);
    const deferred = state.db
      .query<{ data: string }, []>("SELECT data FROM events WHERE type = 'run.deferred'")
      .all()
      .map((row) => JSON.parse(row.data).reason as string);
    expect(deferred).toEqual(["outside the off-peak windows (Sun 02:00–05:00); next opens 2026-11-22T02:00:00.000Z"]);

    clock.advance(13 * HOUR); // Sunday 01:00: still outside
    scheduler.pump();
    expect(scheduler.queued()).toHaveLength(1);
    clock.advance(1.5 * HOUR); // Sunday 02:30: inside
    scheduler.pump();
    expect(scheduler.queued()).toHaveLength(0);
    const deadline = Date.now() + 10_000;
    while (listRuns(state.db, { limit: 5 }).every((run) => run.status !== "succeeded") && Date.now() < deadline)
      await Bun.sleep(20);
    expect(listRuns(state.db, { limit: 5 }).map((run) => run.status)).toEqual(["succeeded"]);
  } finally {
    await scheduler.stop();
    state.close();
  }
}, 30_000);

test("a run paused longer than max_pause is cancelled and goes back in the queue", async () => {
  await using dir = tempDir();
  const home = join(dir.path, "home");
  const trainer = `while true; do echo '{"event":"heartbeat"}'; sleep 0.1; done`;
  const file = dir.write(
    "home/profile.yaml",
    `paths:\n  home: ${home}\ngovernor:\n  pause_after: 1\n  max_pause: 5m\njobs:\n  gpu:\n    strategy: command\n   ` +
      ` options: { command: ${JSON.stringify(trainer)}, grace_period: 200ms }\n`,
  );
  const { profile, paths, registry } = await resolveProfile(file, testEnvironment(dir.path));
  const state = openState(paths!.state);
  const clock = new FakeClock(Date.parse("2026-11-21T12:00:00Z"));
  const sample = (cpu: number) => ({
    at: clock.now(),
    cpuPercent: cpu,
    totalCpuPercent: cpu,
    ownCpuPercent: 0,
    memoryPercent: 10,
    load1: 0,
  });
  const governor = new Governor(governorLimits(profile!.governor));
  governor.observe(sample(1));
  const runner = new JobRunner({ profile: profile!, paths: paths!, registry, state, logger: silentLogger, governor });
  const scheduler = new Scheduler({
    profile: profile!,
    paths: paths!,
    registry,
    state,
    runner,
    governor,
    logger: silentLogger,
    events: new EventBus(),
    clock,
    asker: new UnattendedAsker(),
  });
  try {
    await scheduler.start(false);
    await scheduler.fired("gpu", "manual: test");
    const deadline = Date.now() + 10_000;
    while (runner.active.size === 0 && Date.now() < deadline) await Bun.sleep(20); // the run has started
    governor.observe(sample(99)); // busy: paused
    clock.advance(6 * 60_000);
    expect(listRuns(state.db, { limit: 5 })[0]!.status).toBe("paused");
    governor.observe(sample(99)); // still busy, 6 minutes on: past max_pause
    while (listRuns(state.db, { limit: 5 }).every((run) => run.status === "paused") && Date.now() < deadline)
      await Bun.sleep(20);
    const [first] = listRuns(state.db, { limit: 5 }).reverse();
    expect(first!.status).toBe("cancelled");
    expect(first!.error).toContain("paused longer than governor.max_pause 5m");
    // Known by its code and reason, not by its words.
    expect(getRun(state.db, first!.id)!.details).toMatchObject({
      error_code: "paused_too_long",
      cancel_reason: "max_pause",
    });
    // Back in the queue, waiting for the machine to calm down.
    while (scheduler.queued().length === 0 && Date.now() < deadline) await Bun.sleep(20);
    expect(scheduler.queued()[0]!.reason).toStartWith(`rescheduled: run ${first!.id}`);
  } finally {
    await scheduler.stop();
    state.close();
  }
}, 30_000);
