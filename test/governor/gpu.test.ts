import { describe, expect, test } from "bun:test";
import { chmodSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { busiestGpu, GpuReporter, parseNvidiaSmi, parseTegrastats } from "../../runtime/governor/gpu-readers.ts";
import { ResourceSampler } from "../../runtime/governor/sampler.ts";
import { systemClock } from "../../runtime/plugins/context.ts";
import { recordingLogger, repoRoot, tempDir } from "../helpers.ts";

describe("GPU readings", () => {
  test("tegrastats lines recorded on a Jetson Nano and an AGX Orin", () => {
    const nano = parseTegrastats(readFileSync(join(repoRoot, "test/fixtures/jetson-nano/tegrastats.txt"), "utf8"));
    // PMIC's fixed 100 °C ignored
    expect(nano).toEqual({ gpuPercent: 45, temperatureC: 36, memoryUsedMb: 1523, memoryTotalMb: 3964 });
    const orin = parseTegrastats(readFileSync(join(repoRoot, "test/fixtures/jetson-orin/tegrastats.txt"), "utf8"));
    // CV engines at -256 °C ignored
    expect(orin).toEqual({ gpuPercent: 12, temperatureC: 47.031, memoryUsedMb: 2567, memoryTotalMb: 30536 });
  });

  test("nvidia-smi CSV lines", () => {
    expect(parseNvidiaSmi("0, 87, 64, 30512, 81559")).toEqual({
      index: 0,
      gpuPercent: 87,
      temperatureC: 64,
      memoryUsedMb: 30512,
      memoryTotalMb: 81559,
    });
    // A field the driver cannot give is unknown on its own, never 0 and never left out of the line's others.
    expect(parseNvidiaSmi("0, [N/A], 64, 1, 2")).toEqual({
      index: 0,
      gpuPercent: undefined,
      temperatureC: 64,
      memoryUsedMb: 1,
      memoryTotalMb: 2,
    });
    expect(parseNvidiaSmi("1, 45, 52, [Not Supported], ")).toMatchObject({ gpuPercent: 45, memoryUsedMb: undefined });
    expect(parseNvidiaSmi("No devices were found")).toBeUndefined();
  });

  test("several GPUs: the highest load and the fullest memory; one unreadable leaves that figure unknown", () => {
    const busy = { gpuPercent: 90, temperatureC: 70, memoryUsedMb: 100, memoryTotalMb: 1000 };
    const full = { gpuPercent: 10, temperatureC: 40, memoryUsedMb: 900, memoryTotalMb: 1000 };
    expect(busiestGpu([busy, full])).toEqual({
      gpuPercent: 90,
      temperatureC: 70,
      memoryUsedMb: 900,
      memoryTotalMb: 1000,
    });
    // An idle GPU and one that answers [N/A]: the busiest is not known to be idle.
    expect(busiestGpu([full, { temperatureC: 80 }])).toEqual({
      gpuPercent: undefined,
      temperatureC: 80,
      memoryUsedMb: undefined,
      memoryTotalMb: undefined,
    });
  });

  test("one long-lived nvidia-smi process feeds every sample; the busiest GPU counts", async () => {
    await using dir = tempDir();
    const fake = dir.write(
      "bin/nvidia-smi",
      "#!/bin/sh\n# a stand-in for nvidia-smi -lms: two GPUs, a line each per interval\nwhile true; do echo '0, 20, " +
        "50, 1000, 80000'; echo '1, 95, 71, 70000, 80000'; sleep 0.1; done\n",
    );
    chmodSync(fake, 0o755);
    const reporter = new GpuReporter({
      kind: "nvidia-smi",
      command: fake,
      intervalMs: 100,
      clock: systemClock,
      logger: recordingLogger([]),
    });
    reporter.start();
    try {
      const sampler = new ResourceSampler("/", () => [process.pid], Date.now, reporter);
      const deadline = Date.now() + 3000;
      while (reporter.reading().gpuPercent === undefined && Date.now() < deadline) await Bun.sleep(20);
      const pid = reporter.pid;
      await Bun.sleep(300);
      const reading = sampler.sample();
      expect(reading.gpuPercent).toBe(95);
      expect(reading.temperatureC).toBeGreaterThanOrEqual(71);
      expect(reporter.pid).toBe(pid); // still the same process: nothing spawned per sample
    } finally {
      reporter.stop();
    }
  });
});
