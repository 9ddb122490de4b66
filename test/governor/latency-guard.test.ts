import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { LatencyGuardSchema } from "../../runtime/config/latency-guard-schema.ts";
import type { Schedule } from "../../runtime/governor/duty-cycle.ts";
import { Governor } from "../../runtime/governor/governor.ts";
import { LatencyGuard, type LatencyGuardSettings, type LatencyWindow } from "../../runtime/governor/latency-guard.ts";
import { LatencyHistogram } from "../../runtime/governor/latency-histogram.ts";
import type { Sample } from "../../runtime/governor/sampler.ts";
import { PauseSwitch } from "../../runtime/training/pause-switch.ts";
import { ThreadAllowance } from "../../runtime/training/thread-allowance.ts";
import { tempDir } from "../helpers.ts";
import { testLimits } from "./limits.ts";
import { testFeed } from "./test-feed.ts";

const settings: LatencyGuardSettings = { enabled: true, factor: 1.5, windowMs: 5000, pauseAfter: 2 };
let windowAt = 0;
/** A 5 s window with `p99Ms`, at `rate` answers a second. */
const window = (p99Ms: number | undefined, rate = 1000): LatencyWindow => ({
  at: (windowAt += 5000),
  p99Ms,
  answers: rate * 5,
  rate,
});

describe("latency guard decisions (injected windows)", () => {
  test("learns the idle p99 at a similar rate, then takes a thread once pause_after windows pass factor × it", () => {
    const guard = new LatencyGuard(settings);
    // Before any idle window there is no target: training windows decide nothing.
    const unknown = guard.observeTraining(window(50), false, true);
    expect([unknown.targetMs, unknown.action]).toEqual([undefined, undefined]);
    // Windows with too few answers teach nothing.
    guard.observeIdle({ at: 0, p99Ms: 100, answers: 5, rate: 1 });
    expect(guard.idleP99(1000)).toBeUndefined();
    for (const p99 of [2, 3, 4]) guard.observeIdle(window(p99));
    for (const p99 of [8, 9, 10]) guard.observeIdle(window(p99, 10_000));
    expect(guard.idleP99(1000)).toBe(3);
    expect(guard.idleP99(1500)).toBe(3);
    expect(guard.idleP99(12_000)).toBe(9);
    // A load unlike any seen idle is judged against all of them.
    expect(guard.idleP99(50)).toBe(8);
    const first = guard.observeTraining(window(4.6), false, true);
    expect([first.targetMs, first.idleP99Ms, first.action]).toEqual([4.5, 3, undefined]);
    // The two windows are judged together: a quiet one does not hide a slow one.
    expect(guard.observeTraining(window(3), false, true)).toMatchObject({ action: "throttle", windows: 2, p99Ms: 4.6 });
    // After each action the guard waits for pause_after new windows.
    expect(guard.observeTraining(window(4), true, true).action).toBeUndefined();
    expect(guard.observeTraining(window(4.2), true, true).action).toBeUndefined();
    expect(guard.observeTraining(window(6), true, true)).toMatchObject({ action: "throttle", p99Ms: 6 });
    // Nothing left to take (runs paused): no action, however slow.
    expect(guard.observeTraining(window(6), true, false).action).toBeUndefined();
    expect(guard.observeTraining(window(6), true, false).action).toBeUndefined();
  });

  test("gives a thread back after pause_after windows under 0.7× the target; between 0.7× and 1× it holds", () => {
    const guard = new LatencyGuard(settings);
    guard.observeIdle(window(2));
    // Target 3 ms; give back under 2.1 ms.
    for (const p99 of [2.5, 2.9, 2.2, 2.8])
      expect(guard.observeTraining(window(p99), true, true).action).toBeUndefined();
    expect(guard.observeTraining(window(2), true, true).action).toBeUndefined();
    expect(guard.observeTraining(window(1.9), true, true)).toMatchObject({ action: "release", windows: 2 });
    // Calm with nothing held back: nothing to give.
    for (let i = 0; i < 4; i++) expect(guard.observeTraining(window(1), false, true).action).toBeUndefined();
    // Too few answers to judge counts as calm: nobody is waiting on the daemon (runs paused here).
    expect(
      guard.observeTraining({ at: (windowAt += 5000), p99Ms: 40, answers: 3, rate: 0.6 }, true, false).action,
    ).toBeUndefined();
    expect(
      guard.observeTraining({ at: (windowAt += 5000), p99Ms: undefined, answers: 0, rate: 0 }, true, false).action,
    ).toBe("release");
  });

  test("the p99 is read over the windows' samples together", () => {
    const guard = new LatencyGuard({ ...settings, p99Ms: 5 });
    const sampled = (slow: number): LatencyWindow => {
      const delays = LatencyHistogram.of([...Array(100 - slow).fill(1), ...Array(slow).fill(10)]);
      return { at: (windowAt += 5000), p99Ms: delays.percentile(0.99), delays, answers: 500, rate: 100 };
    };
    // One slow sample in 100 each: 2 in 200 together, still the slowest 1 %: p99 about 1 ms.
    expect(sampled(1).p99Ms).toBeLessThan(1.1);
    expect(guard.observeTraining(sampled(1), false, true).action).toBeUndefined();
    const together = guard.observeTraining(sampled(1), false, true);
    expect([together.windows, together.action]).toEqual([2, undefined]);
    // None, then three: 1.5 % slow together, so the p99 is the slow one, 10 ms.
    expect(guard.observeTraining(sampled(0), false, true).action).toBeUndefined();
    const slow = guard.observeTraining(sampled(3), false, true);
    expect(slow.action).toBe("throttle");
    expect(slow.p99Ms).toBeGreaterThan(9.9);
  });

  test("p99_ms is a target of its own: no idle window needed", () => {
    const guard = new LatencyGuard({ ...settings, p99Ms: 0.05 });
    expect(guard.observeTraining(window(0.2), false, true)).toMatchObject({ targetMs: 0.05, idleP99Ms: undefined });
    expect(guard.observeTraining(window(0.2), false, true).action).toBe("throttle");
    // Switched off, it judges nothing.
    guard.setSettings({ ...settings, enabled: false, p99Ms: 0.05 });
    for (let i = 0; i < 4; i++) expect(guard.observeTraining(window(0.2), false, true).action).toBeUndefined();
  });

  test("a release taken back soon after doubles the calm the next one needs; one that holds halves it again", () => {
    const guard = new LatencyGuard({ ...settings, p99Ms: 3 });
    const run = (p99s: number[]) => p99s.map((p99) => guard.observeTraining(window(p99), true, true).action ?? "-");
    expect(run([4, 4])).toEqual(["-", "throttle"]);
    expect(run([1, 1])).toEqual(["-", "release"]);
    // Over again within 4 × pause_after windows: the release was premature.
    expect(run([4, 4])).toEqual(["-", "throttle"]);
    expect(run([1, 1, 1, 1])).toEqual(["-", "-", "-", "release"]);
    expect(run([4, 4])).toEqual(["-", "throttle"]);
    expect(run([1, 1, 1, 1, 1, 1, 1, 1])).toEqual(["-", "-", "-", "-", "-", "-", "-", "release"]);
    // This release holds past 4 × pause_after windows: the wait eases to 4 windows.
    expect(run(Array(9).fill(2.5))).toEqual(Array(9).fill("-"));
    expect(run([1, 1, 1, 1])).toEqual(["-", "-", "-", "release"]);
  });
});

const limits = testLimits({ latencyGuard: settings });
let at = 0;
const sample = (predictionsPerSecond = 0): Sample => ({
  at: (at += 1000),
  cpuPercent: 10,
  totalCpuPercent: 10,
  ownCpuPercent: 0,
  memoryPercent: 10,
  load1: 0,
  predictionsPerSecond,
});

/** Timers stepped by hand: the governor's duty cycle schedules one at a time. */
function manualSchedule() {
  let next: (() => void) | undefined;
  let latestMs = 0;
  const schedule: Schedule = (run, ms) => {
    next = run;
    latestMs = ms;
    return () => {
      if (next === run) next = undefined;
    };
  };
  return {
    schedule,
    pending: () => next !== undefined,
    /** The latest timer's delay. */
    get ms() {
      return latestMs;
    },
    fire: () => {
      const run = next;
      next = undefined;
      run?.();
    },
  };
}

/** A governed run with `threads` threads, its pause switch and thread allowance as the runner gives them. */
function governedRun(threads: number) {
  const pause = new PauseSwitch();
  const allowance = new ThreadAllowance();
  allowance.using(threads);
  let ended = 0;
  const run = {
    setPaused: (p: boolean) => pause.set(p),
    setThreads: (n: number | undefined) => allowance.set(n),
    threadsInUse: () => allowance.inUse,
    onMaxPause: () => ended++,
  };
  return { run, pause, allowance, ended: () => ended };
}

describe("the governor under the latency guard (injected windows)", () => {
  test(
    "takes threads one at a time, then rests the last one part of the time, down to pausing; refuses new runs " +
      "while paused, and gives them back the same way",
    () => {
      const events: Array<{ type: string; data: Record<string, unknown> }> = [];
      const timers = manualSchedule();
      const governor = new Governor(
        limits,
        {
          emit: (type, data) =>
            void (type.startsWith("governor.") && type !== "governor.reading" && events.push({ type, data })),
        },
        timers.schedule,
      );
      governor.observe(sample());
      governor.observeLatency(window(2)); // idle: target 3 ms from now on
      expect(governor.state.latency).toMatchObject({ enabled: true, threadsPerRun: undefined, idleP99Ms: 2, p99Ms: 2 });
      const { run, pause, allowance } = governedRun(2);
      governor.register("run-1", run);
      for (let i = 0; i < 2; i++) governor.observeLatency(window(4));
      expect(allowance.allowed).toBe(1);
      expect(pause.paused).toBe(false);
      expect(governor.state.latency).toMatchObject({ threadsPerRun: 1, p99Ms: 4, targetMs: 3, idleP99Ms: 2 });
      const reason =
        "serving delay p99 4.00 ms > 3.00 ms (1.5× idle p99 2.00 ms) for 2 windows of 5 s: runs train on 1 thread(s)";
      expect(governor.state.latency.reason).toBe(reason);
      expect(timers.pending()).toBe(false);
      // Past one thread: that thread trains 75 % of each 2 s, then 50 %, then 25 %, resting (not paused) between.
      for (const [duty, trainMs] of [
        [0.75, 1500],
        [0.5, 1000],
        [0.25, 500],
      ] as const) {
        for (let i = 0; i < 2; i++) governor.observeLatency(window(3.5));
        expect(governor.state.latency).toMatchObject({ threadsPerRun: 1, duty });
        expect(governor.state.latency.reason).toEndWith(`runs train on 1 thread(s) ${duty * 100} % of the time`);
        expect([pause.paused, allowance.allowed, timers.ms]).toEqual([false, 1, trainMs]);
        timers.fire(); // the training stretch ends: no thread trains, and the run is not paused
        expect([pause.paused, allowance.allowed, timers.ms]).toEqual([false, 0, 2000 - trainMs]);
        expect(governor.admit()).toEqual({ ok: true });
        timers.fire();
        expect(allowance.allowed).toBe(1);
      }
      for (let i = 0; i < 2; i++) governor.observeLatency(window(3.5));
      expect(pause.paused).toBe(true);
      expect(timers.pending()).toBe(false);
      expect(governor.state.latency).toMatchObject({ threadsPerRun: 0, duty: undefined });
      expect(governor.state.paused).toBe(false); // the readings do not pause anything
      expect(governor.admit()).toEqual({
        ok: false,
        reason: `the latency guard holds runs paused: ${governor.state.latency.reason}`,
        cause: "latency_guard",
      });
      // Calm: back through the shares of the time to one thread, then all of them.
      for (const duty of [0.25, 0.5, 0.75]) {
        for (let i = 0; i < 2; i++) governor.observeLatency(window(1.5));
        expect([pause.paused, allowance.allowed, governor.state.latency.duty]).toEqual([false, 1, duty]);
      }
      for (let i = 0; i < 2; i++) governor.observeLatency(window(1.5));
      expect([pause.paused, allowance.allowed, governor.state.latency.duty, timers.pending()]).toEqual([
        false,
        1,
        undefined,
        false,
      ]);
      expect(governor.admit()).toEqual({ ok: true });
      for (let i = 0; i < 2; i++) governor.observeLatency(window(1.5));
      expect(allowance.allowed).toBeUndefined();
      expect(governor.state.latency).toMatchObject({ threadsPerRun: undefined, reason: "" });
      expect(events.map((e) => [e.type, e.data.threads_per_run, e.data.duty])).toEqual([
        ["governor.throttled", 1, undefined],
        ["governor.throttled", 1, 0.75],
        ["governor.throttled", 1, 0.5],
        ["governor.throttled", 1, 0.25],
        ["governor.throttled", 0, undefined],
        ["governor.released", 1, 0.25],
        ["governor.released", 1, 0.5],
        ["governor.released", 1, 0.75],
        ["governor.released", 1, undefined],
        ["governor.released", undefined, undefined],
      ]);
      expect(events[0]!.data).toEqual({
        p99_ms: 4,
        target_ms: 3,
        idle_p99_ms: 2,
        windows: 2,
        window_s: 5,
        threads_per_run: 1,
        runs: 1,
        reason,
      });
      expect(events.at(-1)!.data.reason).toBe(
        "serving delay p99 1.50 ms < 2.10 ms (0.7× the target 3.00 ms) for 2 windows of 5 s: runs train on all " +
          "their threads",
      );
    },
  );

  test(
    "the guard works on top of a spared core, its pause counts for max_pause, and its hold is lifted once no run " +
      "trains",
    () => {
      const governor = new Governor(
        {
          ...limits,
          spareCorePredictionsPerSecond: 100,
          pauseAfter: 1,
          maxPauseMs: 3000,
          latencyGuard: { ...settings, p99Ms: 3 },
        },
        undefined,
        manualSchedule().schedule,
      );
      const first = governedRun(2);
      governor.register("run-1", first.run);
      governor.observe(sample(500)); // a core spared: one thread of two
      expect(first.allowance.allowed).toBe(1);
      // One thread was training: it trains a share of the time, smaller at each step, then the run pauses.
      for (const duty of [0.75, 0.5, 0.25]) {
        for (let i = 0; i < 2; i++) governor.observeLatency(window(4));
        expect([first.pause.paused, first.allowance.allowed, governor.state.latency.duty]).toEqual([false, 1, duty]);
      }
      for (let i = 0; i < 2; i++) governor.observeLatency(window(4));
      expect(first.pause.paused).toBe(true);
      for (let i = 0; i < 2; i++) governor.observe(sample(500));
      expect(first.ended()).toBe(0);
      governor.observe(sample(500));
      expect(first.ended()).toBe(1);
      expect(governor.state.runs).toBe(0);
      // A run that starts while the hold lasts starts under it (admission aside, as a forced run does).
      const second = governedRun(2);
      const release = governor.register("run-2", second.run);
      expect(second.pause.paused).toBe(true);
      release();
      for (let i = 0; i < 2; i++) governor.observeLatency(window(4));
      expect(governor.state.latency.threadsPerRun).toBeUndefined();
      expect(governor.admit()).toEqual({ ok: true });
    },
  );

  test("under a spared core, a release back to what the core leaves lifts the hold", () => {
    const governor = new Governor({
      ...limits,
      cores: 4,
      spareCorePredictionsPerSecond: 100,
      pauseAfter: 1,
      latencyGuard: { ...settings, p99Ms: 3 },
    });
    const { run, allowance } = governedRun(8);
    governor.register("run-1", run);
    governor.observe(sample(500)); // a core spared: three threads of eight
    expect(allowance.allowed).toBe(3);
    for (let i = 0; i < 2; i++) governor.observeLatency(window(4));
    expect(allowance.allowed).toBe(2);
    for (let i = 0; i < 2; i++) governor.observeLatency(window(1));
    expect(allowance.allowed).toBe(3);
    expect(governor.state.latency.threadsPerRun).toBeUndefined();
  });

  test("a p99_ms of 0 is refused: it would throttle every window and never release", () => {
    const parsed = v.safeParse(LatencyGuardSchema, { p99_ms: 0 });
    expect(parsed.success).toBe(false);
    expect(parsed.issues?.[0]?.message).toContain("above 0 ms");
    expect(v.safeParse(LatencyGuardSchema, { p99_ms: 0.5 }).success).toBe(true);
  });

  test("windows while a run trains past the governor (--force) are not learned as idle", () => {
    const governor = new Governor(limits);
    governor.observeLatency(window(2)); // idle: target 3 ms
    const forced = governor.trainingUngoverned("run-forced");
    for (let i = 0; i < 5; i++) governor.observeLatency(window(10));
    forced();
    const { run, allowance } = governedRun(3);
    governor.register("run-1", run);
    for (let i = 0; i < 2; i++) governor.observeLatency(window(4));
    expect(governor.state.latency.targetMs).toBe(3);
    expect(allowance.allowed).toBe(2);
  });

  test("turned off by a reload, the guard lets go of runs at once", () => {
    const governor = new Governor({ ...limits, latencyGuard: { ...settings, p99Ms: 3 } });
    const { run, allowance } = governedRun(3);
    governor.register("run-1", run);
    for (let i = 0; i < 2; i++) governor.observeLatency(window(4));
    expect(allowance.allowed).toBe(2);
    governor.setLimits({ ...limits, latencyGuard: { ...settings, enabled: false } });
    expect(allowance.allowed).toBeUndefined();
    for (let i = 0; i < 4; i++) governor.observeLatency(window(40));
    expect(allowance.allowed).toBeUndefined();
  });
});

describe("latency windows from the feed", () => {
  test(
    "every latency_guard.window the governor gets the serving delay p99 and the answers counted; a reload re-arms " +
      "the window",
    async () => {
      await using dir = tempDir();
      const windows: LatencyWindow[] = [];
      const governor = new Governor(limits);
      governor.observeLatency = (window) => void windows.push(window);
      let windowMs = 5000;
      const { feed, clock, state } = testFeed(dir, governor, { latencyWindowMs: () => windowMs });
      feed.start();
      for (let i = 0; i < 100; i++) feed.countPrediction();
      await Bun.sleep(60); // real time for the event-loop monitor to take samples
      clock.advance(5000);
      expect(windows).toHaveLength(1);
      expect(windows[0]).toMatchObject({ answers: 100, rate: 20 });
      expect(windows[0]!.p99Ms).toBeGreaterThanOrEqual(0);
      // No answer in a window: no delay measured, and the monitor stays off until the next answer.
      clock.advance(5000);
      expect(windows[1]).toMatchObject({ answers: 0, rate: 0, p99Ms: undefined });
      windowMs = 2000;
      clock.advance(1000); // the next sample follows the reloaded profile
      clock.advance(2000);
      expect(windows.map((w) => w.at - windows[0]!.at)).toEqual([0, 5000, 8000]);
      windowMs = 0;
      clock.advance(1000);
      clock.advance(10_000);
      expect(windows).toHaveLength(3);
      feed.dispose();
      state.close();
    },
  );
});
