/**
 * Scheduling benchmarks, run by hand: `bun scripts/bench/scheduling.ts`. Prints a Markdown table for the
 * README. The sampler is compared with psutil doing the same readings (Debian's python3-psutil) in the same run.
 */
import { mkdirSync, rmSync } from "node:fs";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import cronTrigger from "../../plugins/triggers/cron.ts";
import { Governor } from "../../runtime/governor/governor.ts";
import { startSampling } from "../../runtime/governor/loop.ts";
import { ResourceSampler } from "../../runtime/governor/sampler.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import { memoryStore, systemClock } from "../../runtime/plugins/context.ts";
import { instantiate } from "../../runtime/plugins/instantiate.ts";
import { registryOf } from "../../runtime/plugins/registry.ts";
import { PauseSwitch } from "../../runtime/training/pause-switch.ts";

const root = resolve(import.meta.dir, "../..");
const rows: string[][] = [];
const report = (...cells: string[]) => {
  rows.push(cells);
  console.error(cells.join(" | "));
};

// 1. The sampler's cost at 1 Hz, in CPU time per sample, against psutil reading the same things.
{
  const sampler = new ResourceSampler("/", () => [process.pid]);
  const samples = 2000;
  const before = process.cpuUsage();
  const wallStart = performance.now();
  for (let i = 0; i < samples; i++) sampler.sample();
  const wallMs = (performance.now() - wallStart) / samples;
  const used = process.cpuUsage(before);
  const cpuMsPerSample = (used.user + used.system) / 1000 / samples;
  const peer = Bun.spawnSync([
    "/usr/bin/python3",
    "-c",
    `
import os, psutil, time
p = psutil.Process()
psutil.cpu_percent(None)
t = p.cpu_times(); t0 = t.user + t.system
for _ in range(${samples}):
    psutil.cpu_percent(None); psutil.virtual_memory(); os.getloadavg(); p.cpu_times()
    try: psutil.sensors_temperatures()
    except Exception: pass
t = p.cpu_times(); print((t.user + t.system - t0) * 1000 / ${samples})
`,
  ]);
  const peerMs = Number(peer.stdout.toString().trim());
  report(
    "governor sampler at 1 Hz (CPU, memory, load, thermal, own-process CPU)",
    `${((cpuMsPerSample / 1000) * 100).toFixed(3)} % of a core (${cpuMsPerSample.toFixed(3)} ms CPU, ` +
      `${wallMs.toFixed(3)} ms wall per sample; no process spawned)`,
    `psutil: ${((peerMs / 1000) * 100).toFixed(3)} % of a core (${peerMs.toFixed(3)} ms per sample)`,
    `${(cpuMsPerSample / peerMs).toFixed(2)}× psutil's cost; target < 1 % of a core`,
  );
}

// 2. 1,000 cron jobs due in the same second all fire within 100 ms of it (the cron trigger plugin, real clock).
{
  const lateness: number[] = [];
  const plugins = registryOf([cronTrigger]);
  const paths = { home: "/", data: "/", models: "/", cache: "/", logs: "/", state: "/", plugins: "/" };
  const triggers = await Promise.all(
    Array.from({ length: 1000 }, () =>
      instantiate(
        "trigger",
        "cron",
        { schedule: "* * * * * *" },
        { plugins, logger: silentLogger, paths, clock: systemClock, store: memoryStore() },
      ),
    ),
  );
  let firstSecond = 0;
  const stops = triggers.map((trigger) => {
    return trigger.watch(() => {
      const now = Date.now();
      const second = Math.floor(now / 1000) * 1000;
      firstSecond ||= second;
      if (second === firstSecond) lateness.push(now - second);
    });
  });
  await Bun.sleep(2500);
  for (const stop of stops) stop?.();
  report(
    "1,000 cron jobs due in the same second (cron trigger plugin)",
    `${lateness.length} fired in that second, the last ${Math.max(...lateness)} ms after it`,
    "—",
    "target: all within 100 ms",
  );
}

// 3. The governor pauses a run within 2 × sample_interval of a CPU hog starting, and resumes after it ends.
{
  const intervalMs = 500;
  const governor = new Governor({
    maxCpuBefore: 50,
    maxMemoryBefore: 100,
    maxTemperature: 200,
    pauseCpu: 50,
    pauseMemory: 100,
    resumeCpu: 30,
    resumeMemory: 100,
    maxGpuBefore: 100,
    maxGpuMemoryBefore: 100,
    pauseGpu: 100,
    resumeGpu: 100,
    gpuMemoryFraction: 1,
    pausePredictionsPerSecond: 0,
    spareCorePredictionsPerSecond: 0,
    cores: 2,
    pauseAfter: 1,
    maxPauseMs: 3_600_000,
  });
  const pause = new PauseSwitch();
  let pausedAt = 0;
  let resumedAt = 0;
  pause.subscribe((paused) => (paused ? (pausedAt = performance.now()) : (resumedAt = performance.now())));
  governor.register("bench", { setPaused: (p) => pause.set(p), onMaxPause() {} });
  const stop = startSampling(new ResourceSampler("/", () => [process.pid]), intervalMs, systemClock, (sample) =>
    governor.observe(sample),
  );
  await Bun.sleep(intervalMs * 3);
  const hogStart = performance.now();
  const hogs = Array.from({ length: 2 * cpus().length }, () => Bun.spawn(["sh", "-c", "while :; do :; done"]));
  while (!pausedAt && performance.now() - hogStart < 10_000) await Bun.sleep(5);
  const hogEnd = performance.now();
  hogs.forEach((hog) => hog.kill("SIGKILL"));
  while (!resumedAt && performance.now() - hogEnd < 10_000) await Bun.sleep(5);
  stop();
  report(
    `governor: CPU hog → run paused (sample_interval ${intervalMs} ms, pause_after 1)`,
    `paused ${(pausedAt - hogStart).toFixed(0)} ms after the hog started; resumed ${(resumedAt - hogEnd).toFixed(0)} ` +
      `ms after it ended`,
    "—",
    `target: pause within ${2 * intervalMs} ms`,
  );
}

// 4. New session file → training started within poll + debounce + 1 s, through the real daemon.
{
  const home = "/tmp/edgetrain-bench-newdata";
  rmSync(home, { recursive: true, force: true });
  const session = (shift: number) =>
    "hr,speed,label\n" +
    Array.from({ length: 200 }, (_, i) => `${(i % 10) * 10 + shift},${i % 5},${i % 10 < 5 ? "walk" : "run"}`).join(
      "\n",
    ) +
    "\n";
  for (let n = 1; n <= 3; n++) {
    mkdirSync(join(home, "data/athletes/player_1"), { recursive: true });
    await Bun.write(join(home, `data/athletes/player_1/TR${n}_x.csv`), session(n));
  }
  await Bun.write(
    join(home, "profile.yaml"),
    `paths:\n  home: ${home}\ngovernor:\n  max_cpu_before: 100\n  max_memory_before: 100\n  pause_cpu: 100\n  ` +
      `pause_memory: 100\njobs:\n  activity:\n    strategy: random-forest\n    options: { n_estimators: 10 }\n    ` +
      `data: { source: sessions, path: athletes, debounce: 3s }\n    triggers: [{ type: new-data, poll: 10s }]\n`,
  );
  const daemon = Bun.spawn(
    [process.execPath, join(root, "runtime/cli/main.ts"), "run", "--home", home, "--port", "0", "--headless"],
    { env: { ...process.env, HOME: home }, stdout: "pipe", stderr: "ignore" },
  );
  const reader = daemon.stdout.getReader();
  const { port } = JSON.parse(new TextDecoder().decode((await reader.read()).value).split("\n")[0]!) as {
    port: number;
  };
  await Bun.sleep(1500);
  const written = Date.now();
  await Bun.write(join(home, "data/athletes/player_1/TR4_x.csv"), session(4));
  let startedAt = 0;
  while (!startedAt && Date.now() - written < 30_000) {
    const { runs } = (await (await fetch(`http://127.0.0.1:${port}/v1/runs`)).json()) as {
      runs: Array<{ started_at: number }>;
    };
    startedAt = runs[0]?.started_at ?? 0;
    await Bun.sleep(20);
  }
  daemon.kill("SIGTERM");
  await daemon.exited;
  const took = (startedAt - written) / 1000;
  report(
    "new session file → training started (poll 10 s, debounce 3 s)",
    `${took.toFixed(2)} s`,
    "—",
    `target ≤ poll + debounce + 1 s = 14 s`,
  );
}

const machine = `${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores`;
console.log(
  `\nCommand: bun scripts/bench/scheduling.ts · Machine: ${machine} · Date: ${new Date().toISOString().slice(0, 10)}\n`,
);
console.log("| Benchmark | edgetrain | peer | Result |\n| --- | --- | --- | --- |");
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
