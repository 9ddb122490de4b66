import { describe, expect, test } from "bun:test";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Governor } from "../../runtime/governor/governor.ts";
import { ResourceSampler, type Sample } from "../../runtime/governor/sampler.ts";
import { makeCheckpoint } from "../../runtime/training/checkpoint.ts";
import { PauseSwitch } from "../../runtime/training/pause-switch.ts";
import { ThreadAllowance } from "../../runtime/training/thread-allowance.ts";
import { pathsIn, processState, repoRoot, tempDir } from "../helpers.ts";
import { testLimits } from "./limits.ts";

const limits = testLimits({
  maxCpuBefore: 30,
  maxMemoryBefore: 70,
  maxTemperature: 80,
  pauseCpu: 80,
  pauseMemory: 90,
  resumeCpu: 40,
  resumeMemory: 75,
});
let clock = 0;
const sample = (cpu: number, memory = 50, temperatureC?: number): Sample => ({
  at: (clock += 1000),
  cpuPercent: cpu,
  totalCpuPercent: cpu,
  ownCpuPercent: 0,
  memoryPercent: memory,
  load1: 0,
  temperatureC,
});

describe("governor decisions (injected readings)", () => {
  test("admission: a run starts only under max_cpu_before, max_memory_before and max_temperature", () => {
    const governor = new Governor(limits);
    expect(governor.admit()).toEqual({ ok: false, reason: "no resource reading yet", cause: "no_reading" });
    governor.observe(sample(10));
    expect(governor.admit()).toEqual({ ok: true });
    governor.observe(sample(35));
    expect(governor.admit()).toEqual({ ok: false, reason: "CPU 35 % ≥ max_cpu_before 30 %", cause: "max_cpu_before" });
    governor.observe(sample(10, 72));
    expect(governor.admit()).toEqual({
      ok: false,
      reason: "memory 72 % ≥ max_memory_before 70 %",
      cause: "max_memory_before",
    });
    governor.observe(sample(10, 50, 81));
    expect(governor.admit()).toEqual({
      ok: false,
      reason: "temperature 81 °C ≥ max_temperature 80 °C",
      cause: "max_temperature",
    });
    // 100 % means no limit: a machine at full load still admits, and never pauses for it.
    const unlimited = new Governor({
      ...limits,
      maxCpuBefore: 100,
      maxMemoryBefore: 100,
      pauseCpu: 100,
      pauseMemory: 100,
      pauseAfter: 1,
    });
    let paused = false;
    unlimited.register("r", { setPaused: (p) => (paused = p), onMaxPause() {} });
    unlimited.observe(sample(100, 100));
    expect(unlimited.admit()).toEqual({ ok: true });
    expect(paused).toBe(false);
  });

  test("pauses after pause_after hot samples, holds between thresholds, resumes after pause_after calm ones", () => {
    const events: string[] = [];
    const governor = new Governor(limits, { emit: (type) => void (type !== "governor.reading" && events.push(type)) });
    const pause = new PauseSwitch();
    governor.register("run-1", { setPaused: (p) => pause.set(p), onMaxPause: () => events.push("max-pause") });
    for (const cpu of [85, 90]) governor.observe(sample(cpu));
    expect(pause.paused).toBe(false);
    governor.observe(sample(95));
    expect(pause.paused).toBe(true);
    expect(governor.state.reason).toBe("CPU 95 % > pause_cpu 80 %");
    expect(governor.admit()).toEqual({
      ok: false,
      reason: "running jobs are paused: CPU 95 % > pause_cpu 80 %",
      cause: "paused",
    });
    for (const cpu of [60, 50, 45, 60]) governor.observe(sample(cpu)); // between resume 40 and pause 80
    expect(pause.paused).toBe(true);
    governor.observe(sample(20));
    governor.observe(sample(25));
    expect(pause.paused).toBe(true);
    governor.observe(sample(30));
    expect(pause.paused).toBe(false);
    expect(events).toEqual(["governor.paused", "governor.resumed"]);
  });

  test("pause_predictions_per_s: runs pause while the daemon answers faster, and resume below half of it", () => {
    const governor = new Governor({ ...limits, pausePredictionsPerSecond: 1000, pauseAfter: 2 });
    const pause = new PauseSwitch();
    governor.register("run-1", { setPaused: (p) => pause.set(p), onMaxPause() {} });
    const serving = (rate: number): Sample => ({ ...sample(10), predictionsPerSecond: rate });
    governor.observe(serving(5000));
    expect(pause.paused).toBe(false);
    governor.observe(serving(5000));
    expect(pause.paused).toBe(true);
    expect(governor.state.reason).toBe("5000 predictions/s > pause_predictions_per_s 1000");
    for (const rate of [900, 600, 700]) governor.observe(serving(rate)); // under the limit, not yet under half of it
    expect(pause.paused).toBe(true);
    for (const rate of [400, 300]) governor.observe(serving(rate));
    expect(pause.paused).toBe(false);
    // 0 means never: the same traffic leaves a run alone.
    const never = new Governor({ ...limits, pauseAfter: 1 });
    let paused = false;
    never.register("r", { setPaused: (p) => (paused = p), onMaxPause() {} });
    never.observe(serving(50_000));
    expect(paused).toBe(false);
  });

  test("a run paused longer than max_pause is handed back to be cancelled and rescheduled", () => {
    const governor = new Governor({ ...limits, maxPauseMs: 5000 });
    let ended = 0;
    governor.register("run-1", { setPaused() {}, onMaxPause: () => ended++ });
    for (let i = 0; i < 3; i++) governor.observe(sample(99));
    for (let i = 0; i < 4; i++) governor.observe(sample(99));
    expect(ended).toBe(0);
    governor.observe(sample(99));
    expect(ended).toBe(1);
    expect(governor.state.runs).toBe(0);
  });

  test("memory and temperature pause too; temperature resumes 5 °C under max_temperature", () => {
    const governor = new Governor({ ...limits, pauseAfter: 1 });
    const pause = new PauseSwitch();
    governor.register("r", { setPaused: (p) => pause.set(p), onMaxPause() {} });
    governor.observe(sample(10, 95));
    expect(governor.state.reason).toBe("memory 95 % > pause_memory 90 %");
    governor.observe(sample(10, 50));
    expect(pause.paused).toBe(false);
    governor.observe(sample(10, 50, 82));
    expect(pause.paused).toBe(true);
    governor.observe(sample(10, 50, 77));
    expect(pause.paused).toBe(true);
    governor.observe(sample(10, 50, 74));
    expect(pause.paused).toBe(false);
  });

  test(
    "spare_core_predictions_per_s: while the daemon answers faster, runs share all cores but one, at least one " +
      "thread each",
    () => {
      const events: Array<{ type: string; data: Record<string, unknown> }> = [];
      const governor = new Governor(
        { ...limits, spareCorePredictionsPerSecond: 100, cores: 4, pauseAfter: 2 },
        { emit: (type, data) => void (type !== "governor.reading" && events.push({ type, data })) },
      );
      const first = new ThreadAllowance();
      governor.register("run-1", { setPaused() {}, setThreads: (n) => first.set(n), onMaxPause() {} });
      const serving = (rate: number): Sample => ({ ...sample(10), predictionsPerSecond: rate });
      governor.observe(serving(500));
      expect(first.allowed).toBeUndefined();
      governor.observe(serving(500));
      expect(first.allowed).toBe(3);
      expect(governor.state).toMatchObject({
        sparingCore: true,
        sparingReason: "500 predictions/s > spare_core_predictions_per_s 100",
        threadsPerRun: 3,
        paused: false,
      });
      // A run that starts meanwhile shares the three cores: one thread each, never none.
      const second = new ThreadAllowance();
      const release = governor.register("run-2", { setPaused() {}, setThreads: (n) => second.set(n), onMaxPause() {} });
      expect([first.allowed, second.allowed]).toEqual([1, 1]);
      const third = new ThreadAllowance();
      const releaseThird = governor.register("run-3", {
        setPaused() {},
        setThreads: (n) => third.set(n),
        onMaxPause() {},
      });
      expect(third.allowed).toBe(1);
      releaseThird();
      release();
      expect(first.allowed).toBe(3);
      for (const rate of [90, 60, 70]) governor.observe(serving(rate)); // under the limit, not yet under half of it
      expect(first.allowed).toBe(3);
      for (const rate of [40, 0]) governor.observe(serving(rate));
      expect(first.allowed).toBeUndefined();
      expect(governor.state.sparingCore).toBe(false);
      expect(events).toEqual([
        {
          type: "governor.sparing_core",
          data: { reason: "500 predictions/s > spare_core_predictions_per_s 100", threads_per_run: 3 },
        },
        {
          type: "governor.core_returned",
          data: { after: "500 predictions/s > spare_core_predictions_per_s 100", runs: 1 },
        },
      ]);
      // 0 means never; on two cores one thread remains.
      const never = new Governor({ ...limits, pauseAfter: 1 });
      const untouched = new ThreadAllowance();
      never.register("r", { setPaused() {}, setThreads: (n) => untouched.set(n), onMaxPause() {} });
      never.observe(serving(50_000));
      expect(untouched.allowed).toBeUndefined();
      const small = new Governor({ ...limits, spareCorePredictionsPerSecond: 100, cores: 2, pauseAfter: 1 });
      const one = new ThreadAllowance();
      small.register("r", { setPaused() {}, setThreads: (n) => one.set(n), onMaxPause() {} });
      small.observe(serving(1000));
      expect(one.allowed).toBe(1);
    },
  );

  test(
    "checkpoint(worker): a thread past the allowance waits until it is raised; thread 0 never waits; cancel ends " +
      "the wait",
    async () => {
      const threads = new ThreadAllowance();
      threads.set(1);
      const abort = new AbortController();
      const checkpoint = makeCheckpoint({
        signal: abort.signal,
        whileHeldBack: (worker) => threads.whileHeldBack(worker, abort.signal),
      });
      await checkpoint(0);
      await checkpoint();
      let second = false;
      const waiting = checkpoint(1).then(() => (second = true));
      await Bun.sleep(20);
      expect(second).toBe(false);
      threads.set(2);
      await waiting;
      expect(second).toBe(true);
      threads.set(1);
      const cancelled = checkpoint(1);
      abort.abort("cancelled by test");
      await expect(cancelled).rejects.toThrow("cancelled by test");
    },
  );
});

describe("resource sampler", () => {
  test(
    "reads recorded Jetson Nano and Orin trees: CPU between two /proc/stat readings, memory, thermal, " + "GPU",
    async () => {
      for (const board of ["jetson-nano", "jetson-orin"]) {
        await using dir = tempDir();
        cpSync(join(repoRoot, "test/fixtures", board), dir.path, { recursive: true });
        const stat = (busy: number, idle: number) =>
          `cpu  ${busy} 0 0 ${idle} 0 0 0 0 0 0\ncpu0 ${busy} 0 0 ${idle} 0 0 0 0 0 0\n`;
        writeFileSync(join(dir.path, "proc/stat"), stat(1000, 9000));
        writeFileSync(join(dir.path, "proc/loadavg"), "1.52 1.20 0.90 2/345 6789\n");
        const sampler = new ResourceSampler(dir.path, () => []);
        sampler.sample();
        writeFileSync(join(dir.path, "proc/stat"), stat(1300, 9100)); // 300 busy of 400 ticks
        const reading = sampler.sample();
        expect(reading.cpuPercent).toBeCloseTo(75, 5);
        expect(reading.memoryPercent).toBeGreaterThan(0);
        expect(reading.load1).toBe(1.52);
        expect(reading.temperatureC).toBeGreaterThan(30);
        expect(reading.gpuPercent).toBeGreaterThan(0);
        expect(readFileSync(join(dir.path, "proc/meminfo"), "utf8")).toContain("MemAvailable");
      }
    },
  );

  test("on this machine, edgetrain's own CPU is measured apart and not counted as the system being busy", () => {
    const sampler = new ResourceSampler("/", () => [process.pid]);
    sampler.sample();
    const until = performance.now() + 400;
    let spin = 0;
    while (performance.now() < until) spin += Math.sqrt(spin + 1);
    const reading = sampler.sample();
    const withDisk = new ResourceSampler("/", () => [], Date.now, undefined, process.cwd()).sample();
    expect(withDisk.diskPercent).toBeGreaterThan(0);
    expect(withDisk.diskPercent).toBeLessThanOrEqual(100);
    // One busy core of two (or more) is ≥ 1/cores of all CPU; it is ours, so the system looks calmer.
    expect(reading.ownCpuPercent).toBeGreaterThan(100 / (2 * navigator.hardwareConcurrency));
    expect(reading.cpuPercent).toBeLessThan(reading.totalCpuPercent!);
    expect(spin).toBeGreaterThan(0);
  });
});

describe("governor against a real busy machine", () => {
  test("a CPU hog pauses a training child (SIGSTOP seen in /proc) while the trainer's own load does not, and its end " +
    "resumes it", async () => {
    const { default: commandStrategy } = await import("../../plugins/strategies/command/index.ts");
    const { processGroupMembers: membersOf } = await import("../../runtime/os/process-identity.ts");
    const { startSampling } = await import("../../runtime/governor/loop.ts");
    const { systemClock } = await import("../../runtime/plugins/context.ts");
    const { registryOf } = await import("../../runtime/plugins/registry.ts");
    const { runStrategy } = await import("../../runtime/training/run-strategy.ts");
    const { silentLogger } = await import("../../runtime/log/logger.ts");
    await using dir = tempDir();
    // Someone else's load is "the machine being busy" too: on a machine that is busy already, a hog proves nothing.
    const probe = new ResourceSampler("/", () => [process.pid]);
    probe.sample();
    await Bun.sleep(600);
    const baseline = probe.sample().cpuPercent ?? 0;
    if (baseline > 40) {
      console.warn(`skipping the hog test: the machine is already ${baseline.toFixed(0)} % busy`);
      return;
    }
    const trainerGroups: number[] = [];
    const sampler = new ResourceSampler("/", () => [
      process.pid,
      ...trainerGroups.flatMap((group) => membersOf(group)),
    ]);
    // The hogs share the cores with our own busy trainer and the test runner: thresholds leave room for that.
    const governor = new Governor({ ...limits, pauseCpu: 45, resumeCpu: 30, pauseAfter: 2 });
    const intervalMs = 200;
    const stopLoop = startSampling(sampler, intervalMs, systemClock, (reading) => governor.observe(reading));
    const pause = new PauseSwitch();
    const abort = new AbortController();
    governor.register("run", { setPaused: (p) => pause.set(p), onMaxPause: () => abort.abort("max_pause") });
    const pids: number[] = [];
    const options = {
      // A trainer that itself keeps a core busy: its load is ours and must not pause it.
      command:
        `echo "{\\"event\\":\\"heartbeat\\",\\"pid\\":$$}"; end=$(($(date +%s) + 20)); while [ $(date +%s) ` +
        `-lt $end ]; do i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done; echo '{"event":"heartbeat"}'; done; touch ` +
        `model.onnx; echo '{"event":"artifact","path":"model.onnx"}'`,
      heartbeat_timeout: "10s",
    };
    const events = {
      emit: (type: string, data: Record<string, unknown>) =>
        void (
          type === "run.heartbeat" &&
          typeof data.pid === "number" &&
          (pids.push(data.pid), trainerGroups.push(data.pid))
        ),
    };
    const scope = { plugins: registryOf([commandStrategy]), logger: silentLogger, paths: pathsIn(dir.path), events };
    const done = runStrategy({
      strategy: "command",
      options,
      scope,
      job: "j",
      runDir: dir.path,
      signal: abort.signal,
      pause,
      loadData: () => Promise.reject(new Error("unused")),
    });
    done.catch(() => undefined);
    const waitFor = async (predicate: () => boolean, ms: number) => {
      const deadline = performance.now() + ms;
      while (!predicate()) {
        if (performance.now() > deadline) return false;
        await Bun.sleep(20);
      }
      return true;
    };
    const hogs: Array<ReturnType<typeof Bun.spawn>> = [];
    try {
      expect(await waitFor(() => pids.length > 0, 5000)).toBe(true);
      // Our own trainer keeps a core busy, yet it runs on.
      await Bun.sleep(intervalMs * 4);
      expect(pause.paused).toBe(false);

      const hogStarted = performance.now();
      for (let i = 0; i < 2 * navigator.hardwareConcurrency; i++)
        hogs.push(Bun.spawn(["sh", "-c", "while :; do :; done"]));
      expect(await waitFor(() => processState(pids[0]!) === "T", 8000)).toBe(true);
      const pausedAfter = performance.now() - hogStarted;
      console.log(
        `paused ${pausedAfter.toFixed(0)} ms after the hog started (sample_interval ${intervalMs} ms, pause_after 2)`,
      );

      for (const hog of hogs) hog.kill("SIGKILL");
      expect(await waitFor(() => processState(pids[0]!) !== "T", 8000)).toBe(true);
      expect(pause.paused).toBe(false);
    } finally {
      for (const hog of hogs) hog.kill("SIGKILL");
      stopLoop();
      abort.abort("test over");
      await done.catch(() => undefined);
    }
  }, 60_000);
});
