import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync } from "node:fs";
import { join } from "node:path";
import commandStrategy from "../../plugins/strategies/command/index.ts";
import { resolveProfile } from "../../runtime/config/validate-profile.ts";
import { runCapacity } from "../../runtime/governor/run-capacity.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import type { RunCapacity, TrainResult } from "../../runtime/plugin-api.ts";
import { registryOf } from "../../runtime/plugins/registry.ts";
import { openState } from "../../runtime/state/database.ts";
import { JobRunner } from "../../runtime/training/job-runner.ts";
import { PauseSwitch } from "../../runtime/training/pause-switch.ts";
import { runStrategy } from "../../runtime/training/run-strategy.ts";
import { ThreadAllowance } from "../../runtime/training/thread-allowance.ts";
import { pathsIn, processState, tempDir, testEnvironment } from "../helpers.ts";

const python = Bun.which("python3") ?? "/usr/bin/python3";

/** A trainer that takes EDGETRAIN_PARAM_MB of memory (every page touched), then heartbeats, then reports a model. */
const allocatingTrainer = `
import json, os, time
block = bytearray(int(os.environ["EDGETRAIN_PARAM_MB"]) * 1024 * 1024)
for i in range(0, len(block), 4096):
    block[i] = 1
for beat in range(int(os.environ["EDGETRAIN_PARAM_BEATS"])):
    print(json.dumps({"event": "heartbeat", "step": beat, "pid": os.getpid()}))
    time.sleep(0.25)
open("model.onnx", "w").write("model")
print(json.dumps({"event": "artifact", "path": "model.onnx"}))
`;

function run(runDir: string, options: Record<string, unknown>, memoryLimitMb: number, capacity: RunCapacity) {
  const events: Array<{ type: string; data: Record<string, unknown> }> = [];
  const done = runStrategy({
    strategy: "command",
    options,
    scope: {
      plugins: registryOf([commandStrategy]),
      logger: silentLogger,
      paths: pathsIn(runDir),
      events: { emit: (type, data) => void events.push({ type, data }) },
    },
    job: "trainers",
    runDir,
    signal: new AbortController().signal,
    pause: new PauseSwitch(),
    threads: new ThreadAllowance(),
    memoryLimitMb,
    capacity,
    loadData: () => Promise.reject(new Error("external trainers read their own data")),
  });
  done.catch(() => undefined);
  return {
    done,
    events,
    ramp: () => events.filter((event) => event.type === "run.ramp").map((event) => String(event.data.decision)),
  };
}

describe("command strategy: capacity probe and staged start", () => {
  test("4 workers of ~110 MB under a 300 MB run limit: the first is probed, then exactly 2 start", async () => {
    await using dir = tempDir();
    const script = dir.write("allocate.py", allocatingTrainer);
    // The real machine's free memory (/proc/meminfo); the run's limit is what holds the workers back.
    const capacity = runCapacity({ memoryReserveMb: 64, gpuMemoryFraction: 0.9, maxPauseMs: 60_000, hostRoot: "/" });
    const started = run(
      dir.path,
      { command: [python, script], workers: 4, params: { mb: 100, beats: 8 } },
      300,
      capacity,
    );
    const result: TrainResult = await started.done;
    expect(started.ramp()).toHaveLength(1);
    expect(started.ramp()[0]).toMatch(
      new RegExp(
        String.raw`^started 2 of 4 workers: each needs ~1\d\d MB, [\d.]+ (GB|MB) free; ` +
          String.raw`a 3rd would pass governor\.memory_limit_mb 300 MB for the run$`,
      ),
    );
    expect(started.events.find((event) => event.type === "run.ramp")!.data).toMatchObject({ started: 2, workers: 4 });
    // Only the two started workers ran a process; the run succeeded on them.
    expect(
      started.events
        .filter((event) => event.type === "run.process")
        .map((event) => event.data.worker)
        .sort(),
    ).toEqual([0, 1]);
    expect((result.metadata!.workers as unknown[]).length).toBe(2);
    expect(existsSync(join(dir.path, "worker-2", "train.log"))).toBe(false);
    // Worker 1 began only after worker 0's second heartbeat: its first heartbeat comes after that one.
    const beats = started.events
      .filter((event) => event.type === "run.heartbeat" || event.type === "run.process")
      .map((event) => `${event.type === "run.process" ? "start" : "beat"} ${String(event.data.worker)}`);
    expect(beats.indexOf("start 1")).toBeGreaterThan(beats.indexOf("beat 0", beats.indexOf("beat 0") + 1));
  });

  test("GPU memory read per process (a stand-in nvidia-smi): only the workers that fit gpu_memory_fraction " +
    "start", async () => {
    await using dir = tempDir();
    const script = dir.write("gpu-allocate.py", allocatingTrainer);
    // Each trainer process holds 3000 MB of a 12000 MB GPU, which other work fills by 2000 MB.
    const standIn = dir.write(
      "bin/nvidia-smi",
      `#!/bin/sh
trainers=$(for p in /proc/[0-9]*; do
  tr '\\0' ' ' < $p/cmdline 2>/dev/null | grep -q gpu-allocate.py && echo "\${p#/proc/}"
done)
case "$1" in
  --query-compute-apps=*) for pid in $trainers; do echo "$pid, 3000"; done; echo "1, 2000" ;;
  --query-gpu=*) echo "$((2000 + 3000 * $(echo $trainers | wc -w))), 12000" ;;
esac
`,
    );
    chmodSync(standIn, 0o755);
    const capacity = runCapacity({
      memoryReserveMb: 64,
      gpuMemoryFraction: 0.9,
      maxPauseMs: 60_000,
      hostRoot: "/",
      toolPath: join(dir.path, "bin"),
    });
    const started = run(
      dir.path,
      // Beating for 10 s, the first workers still run when the ramp decides on the 3rd: one that had ended
      // would have given its GPU memory back, and a 3rd would fit.
      { command: [python, script], workers: 4, params: { mb: 10, beats: 40 } },
      4096,
      capacity,
    );
    await started.done;
    expect(started.ramp()[0]).toMatch(
      new RegExp(
        String.raw`^started 2 of 4 workers: each needs ~\d+ MB and ~2\.9 GB of GPU memory, .* free; ` +
          String.raw`a 3rd would pass gpu_memory_fraction 0\.9 of 11\.7 GB GPU memory$`,
      ),
    );
    expect(started.events.find((event) => event.type === "run.ramp")!.data).toMatchObject({
      started: 2,
      gpu_need_mb: 3000,
    });
  }, 60_000);

  test("a first worker that ends before its second heartbeat ends the probe; the others still start", async () => {
    await using dir = tempDir();
    const script = dir.write("allocate.py", allocatingTrainer);
    const capacity = runCapacity({ memoryReserveMb: 64, gpuMemoryFraction: 0.9, maxPauseMs: 60_000, hostRoot: "/" });
    const started = run(
      dir.path,
      { command: [python, script], workers: 3, params: { mb: 10, beats: 1 } },
      4096,
      capacity,
    );
    const result = await started.done;
    expect(started.ramp()[0]).toStartWith("started 3 of 3 workers: each needs ~");
    expect((result.metadata!.workers as Array<{ status: string }>).map((worker) => worker.status)).toEqual([
      "succeeded",
      "succeeded",
      "succeeded",
    ]);
  });

  test("memory tightening later stops the newest worker (SIGSTOP), then cancels it past max_pause; the run goes " +
    "on", async () => {
    await using dir = tempDir();
    const script = dir.write("allocate.py", allocatingTrainer);
    const host = runCapacity({ memoryReserveMb: 64, gpuMemoryFraction: 0.9, maxPauseMs: 1500, hostRoot: "/" });
    // Free memory is simulated: plenty while the workers start, then under the reserve.
    let tight = false;
    const capacity: RunCapacity = { ...host, availableMemoryMb: () => (tight ? 10 : 100_000) };
    const started = run(
      dir.path,
      { command: [python, script], workers: 3, params: { mb: 20, beats: 40 } },
      4096,
      capacity,
    );
    const deadline = Date.now() + 20_000;
    while (!started.ramp().some((decision) => decision.startsWith("started 3 of 3")) && Date.now() < deadline)
      await Bun.sleep(50);
    tight = true;
    while (!started.ramp().some((decision) => decision.startsWith("stopped worker 2")) && Date.now() < deadline)
      await Bun.sleep(50);
    const pid = started.events.find((event) => event.type === "run.process" && event.data.worker === 2)!.data
      .pid as number;
    expect(processState(pid)).toBe("T");
    while (!started.ramp().some((decision) => decision.startsWith("cancelled worker 2")) && Date.now() < deadline)
      await Bun.sleep(50);
    tight = false;
    const result = await started.done;
    expect(started.ramp()).toContain("stopped worker 2: 10 MB free, under governor.memory_reserve_mb 64 MB");
    // Newest first: worker 1 only after worker 2; worker 0 never.
    const stopped = started.ramp().filter((decision) => decision.startsWith("stopped worker"));
    expect(stopped[0]).toStartWith("stopped worker 2");
    expect(stopped.some((decision) => decision.includes("worker 0"))).toBe(false);
    const workers = result.metadata!.workers as Array<{ id: number; status: string }>;
    expect(workers.find((worker) => worker.id === 0)!.status).toBe("succeeded");
    expect(workers.find((worker) => worker.id === 2)!.status).toBe("cancelled");
    expect(started.ramp()).toContain("cancelled worker 2: stopped for memory longer than governor.max_pause");
  }, 30_000);

  test("through the job runner: the decision is in the run's record and its run.ramp event", async () => {
    await using dir = tempDir();
    const script = dir.write("allocate.py", allocatingTrainer);
    const home = join(dir.path, "home");
    const file = dir.write(
      "home/profile.yaml",
      `paths:\n  home: ${home}\ngovernor: { memory_limit_mb: 300, memory_reserve_mb: 64 }\njobs:\n  trainers:\n    ` +
        `strategy: command\n    options: { command: [${python}, ${script}], workers: 4, params: { mb: 100, beats: 6 ` +
        `} }\n`,
    );
    const resolved = await resolveProfile(file, testEnvironment(dir.path));
    expect(resolved.problems.filter((problem) => problem.severity === "error")).toEqual([]);
    const state = openState(resolved.paths!.state);
    const events: Array<{ type: string; data: Record<string, unknown> }> = [];
    try {
      const runner = new JobRunner({
        profile: resolved.profile!,
        paths: resolved.paths!,
        registry: resolved.registry,
        state,
        logger: silentLogger,
        events: { emit: (type, data) => void events.push({ type, data }) },
      });
      const [outcome] = await runner.run({ job: "trainers", trigger: "test" });
      expect(outcome!.status).toBe("succeeded");
      const ramp = events.find((event) => event.type === "run.ramp")!;
      expect(ramp.data).toMatchObject({ run: outcome!.run, started: 2, workers: 4 });
      const row = state.db
        .query<{ details: string }, [string]>("SELECT details FROM runs WHERE id = ?")
        .get(outcome!.run)!;
      expect(JSON.parse(row.details).ramp.decision).toStartWith("started 2 of 4 workers: each needs ~1");
    } finally {
      state.close();
    }
  });
});
