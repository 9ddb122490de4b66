import { expect, test } from "bun:test";
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Governor } from "../../runtime/governor/governor.ts";
import { ResourceSampler } from "../../runtime/governor/sampler.ts";
import { repoRoot, runCli, startDaemonProcess, tempDir, waitUntil } from "../helpers.ts";
import { testLimits } from "./limits.ts";

const UNKNOWN_NOTE =
  "CPU unknown (/proc/stat gave no reading); starting without the CPU limits; memory unknown (/proc/meminfo gave " +
  "no reading); starting without the memory limits";

/** A recorded Jetson Nano whose /proc/stat and /proc/meminfo the test writes, or takes away. */
function recordedHost(root: string) {
  cpSync(join(repoRoot, "test/fixtures/jetson-nano"), root, { recursive: true });
  let busy = 0;
  let idle = 0;
  return {
    /** The CPU `percent` busy since the previous sample, and `memory` percent of 4 GB in use. */
    write(percent: number, memory: number) {
      busy += percent;
      idle += 100 - percent;
      writeFileSync(join(root, "proc/stat"), `cpu  ${busy} 0 0 ${idle} 0 0 0 0 0 0\n`);
      writeFileSync(join(root, "proc/meminfo"), `MemTotal: 4000000 kB\nMemAvailable: ${40_000 * (100 - memory)} kB\n`);
    },
    remove() {
      rmSync(join(root, "proc/stat"));
      rmSync(join(root, "proc/meminfo"));
    },
  };
}

test("CPU and memory /proc cannot give are unknown, never 0: they hold nothing back and pause nothing", async () => {
  await using dir = tempDir();
  const host = recordedHost(dir.path);
  const sampler = new ResourceSampler(dir.path, () => []);
  const governor = new Governor(
    testLimits({ maxCpuBefore: 50, maxMemoryBefore: 50, pauseCpu: 60, pauseMemory: 60, resumeCpu: 40 }),
  );
  let paused = false;
  governor.register("run-1", { setPaused: (p) => (paused = p), onMaxPause() {} });
  host.write(0, 10);
  sampler.sample();
  for (let i = 0; i < 3; i++) {
    host.write(90, 90);
    governor.observe(sampler.sample());
  }
  expect(governor.state.latest).toMatchObject({ cpuPercent: 90, memoryPercent: 90 });
  expect(paused).toBe(true);

  host.remove();
  const unknown = sampler.sample();
  for (const figure of ["cpuPercent", "totalCpuPercent", "ownCpuPercent", "memoryPercent"] as const)
    expect(unknown[figure]).toBeUndefined();
  expect(unknown.gpuPercent).toBeGreaterThan(0); // the rest is read as before
  // Unknown is calm: the run resumes after pause_after samples, and a run starts, saying why.
  for (let i = 0; i < 3; i++) governor.observe(sampler.sample());
  expect(paused).toBe(false);
  expect(governor.admit()).toEqual({ ok: true, note: UNKNOWN_NOTE });

  // Back: the first /proc/stat has nothing to compare with, so the CPU is unknown one sample longer.
  host.write(20, 30);
  const first = sampler.sample();
  expect([first.cpuPercent, first.memoryPercent]).toEqual([undefined, 30]);
  host.write(20, 30);
  governor.observe(sampler.sample());
  expect(governor.state.latest).toMatchObject({ cpuPercent: 20, memoryPercent: 30 });
  expect(governor.admit()).toEqual({ ok: true });
});

test("a daemon on a host without /proc/stat and /proc/meminfo: status, /metrics and runs say unknown", async () => {
  await using dir = tempDir();
  const home = join(dir.path, "home");
  mkdirSync(join(dir.path, "host/proc"), { recursive: true });
  writeFileSync(join(dir.path, "host/proc/loadavg"), "0.50 0.40 0.30 1/100 1234\n");
  dir.write(
    "home/profile.yaml",
    `paths: { home: ${home} }
governor:
  { sample_interval: 100ms, max_cpu_before: 50, max_memory_before: 50, pause_cpu: 60, pause_memory: 60,
    resume_cpu: 40, resume_memory: 40 }
jobs:
  fit:
    strategy: command
    options: { command: "true" }
    triggers: [{ type: manual }]
`,
  );
  const env = { EDGETRAIN_HOST_ROOT: join(dir.path, "host") };
  const cliIn = (...args: string[]) => runCli([...args, "--home", home], { home: dir.path, env });
  // Without a daemon, `train` admits the run the same way, and says so.
  expect((await cliIn("train", "fit")).stderr).toContain(`WARN  ${UNKNOWN_NOTE}  job=fit`);
  const { proc, url } = await startDaemonProcess(home, ["--home", home, "--headless"], env);
  type Status = { governor: { readings?: Record<string, unknown>; admission: string } };
  const status = async () => (await (await fetch(`${url}/v1/status`)).json()) as Status;
  try {
    await waitUntil(async () => (await status()).governor.readings?.load1 === 0.5);
    const { governor } = await status();
    expect(Object.keys(governor.readings!)).not.toEqual(
      expect.arrayContaining([expect.stringMatching(/^(cpuPercent|totalCpuPercent|ownCpuPercent|memoryPercent)$/)]),
    );
    expect(governor.admission).toBe(UNKNOWN_NOTE);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain("\nedgetrain_load1 0.5\n");
    expect(metrics).not.toMatch(/^edgetrain_(system_cpu|own_cpu|memory_used)_ratio /m);
    const shown = (await cliIn("status")).stdout;
    expect(shown).toContain("\ncpu unknown · memory unknown\n");
    expect(shown).toContain(`governor: admitting runs — ${UNKNOWN_NOTE}`);

    expect((await cliIn("train", "fit")).code).toBe(0);
    await waitUntil(async () => JSON.parse((await cliIn("runs", "--json")).stdout).length > 1, 15_000);
    const warned = (await (await fetch(`${url}/v1/logs?level=warn`)).json()) as { lines: Array<{ msg: string }> };
    expect(warned.lines.map((line) => line.msg)).toContain(UNKNOWN_NOTE);
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}, 60_000);
