import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Governor } from "../../runtime/governor/governor.ts";
import type { Sample } from "../../runtime/governor/sampler.ts";
import { repoRoot, tempDir } from "../helpers.ts";
import { feedWith, standIn } from "./gpu-stand-in.ts";
import { testLimits } from "./limits.ts";

const limits = testLimits({
  maxGpuBefore: 50,
  maxGpuMemoryBefore: 75,
  pauseGpu: 90,
  resumeGpu: 60,
  gpuMemoryFraction: 0.9,
  pauseAfter: 1,
});
let at = 0;
const gpuSample = (gpuPercent?: number, gpuMemoryUsedMb?: number, gpuUnreadable?: boolean): Sample => ({
  at: (at += 1000),
  cpuPercent: 0,
  totalCpuPercent: 0,
  ownCpuPercent: 0,
  memoryPercent: 10,
  load1: 0,
  gpuPercent,
  gpuMemoryUsedMb,
  gpuMemoryTotalMb: gpuMemoryUsedMb === undefined ? undefined : 1000,
  ...(gpuUnreadable ? { gpuUnreadable } : {}),
});

describe("GPU-aware governor (readings injected)", () => {
  test("admission holds a run back over max_gpu_before and max_gpu_memory_before", () => {
    const governor = new Governor(limits);
    governor.observe(gpuSample(20, 100));
    expect(governor.admit()).toEqual({ ok: true });
    governor.observe(gpuSample(55, 100));
    expect(governor.admit()).toEqual({ ok: false, reason: "GPU 55 % ≥ max_gpu_before 50 %", cause: "max_gpu_before" });
    governor.observe(gpuSample(20, 800));
    expect(governor.admit()).toEqual({
      ok: false,
      reason: "GPU memory 80 % ≥ max_gpu_memory_before 75 %",
      cause: "max_gpu_memory_before",
    });
  });

  test("runs pause over pause_gpu or gpu_memory_fraction and resume under resume_gpu", () => {
    const events: string[] = [];
    const governor = new Governor(limits, {
      emit: (type, data) =>
        void (
          type !== "governor.reading" &&
          events.push(
            `${type}: ${String((data as Record<string, unknown>).reason ?? (data as Record<string, unknown>).after)}`,
          )
        ),
    });
    let paused = false;
    governor.register("run-1", { setPaused: (p) => (paused = p), onMaxPause() {} });
    governor.observe(gpuSample(95, 100));
    expect(paused).toBe(true);
    governor.observe(gpuSample(70, 100));
    expect(paused).toBe(true); // between resume_gpu and pause_gpu: holds
    governor.observe(gpuSample(40, 100));
    expect(paused).toBe(false);
    governor.observe(gpuSample(40, 950));
    expect(paused).toBe(true);
    governor.observe(gpuSample(40, 850));
    expect(paused).toBe(false);
    expect(events).toEqual([
      "governor.paused: GPU 95 % > pause_gpu 90 %",
      "governor.resumed: GPU 95 % > pause_gpu 90 %",
      "governor.paused: GPU memory 95 % > gpu_memory_fraction 90 %",
      "governor.resumed: GPU memory 95 % > gpu_memory_fraction 90 %",
    ]);
  });

  test("a GPU that cannot be read is unknown: admitted with a note, never paused, never taken for 0 %", () => {
    const governor = new Governor({ ...limits, maxGpuBefore: 0 });
    let paused = false;
    governor.register("run-1", { setPaused: (p) => (paused = p), onMaxPause() {} });
    governor.observe(gpuSample(undefined, undefined, true));
    expect(governor.admit()).toEqual({
      ok: true,
      note: "GPU load unknown (its reader gave no reading); starting without the GPU limits",
    });
    expect(paused).toBe(false);
    // No GPU on the machine at all: nothing to say.
    governor.observe(gpuSample(undefined));
    expect(governor.admit()).toEqual({ ok: true });
  });
});

describe("GPU-aware governor (recorded readers played back)", () => {
  test("nvidia-smi: a busy GPU holds runs back and pauses the running one", async () => {
    await using dir = tempDir();
    const path = standIn(dir, "nvidia-smi", join(repoRoot, "test/fixtures/nvidia-smi/query-gpu-busy.csv"));
    const fed = await feedWith(path, { ...limits, gpuMemoryFraction: 1 }, dir);
    let paused = false;
    fed.governor.register("run-1", { setPaused: (p) => (paused = p), onMaxPause() {} });
    try {
      await fed.sampleAfterReading(1, (sample) => sample.gpuPercent !== undefined);
      const sample = fed.samples.at(-1)!;
      expect(sample).toMatchObject({ gpuPercent: 97, gpuMemoryUsedMb: 74210, gpuMemoryTotalMb: 81559 });
      expect(sample.temperatureC).toBeGreaterThanOrEqual(71);
      expect(paused).toBe(true);
      expect(fed.governor.state.reason).toBe("GPU 97 % > pause_gpu 90 %");
      expect(fed.governor.admit()).toEqual({
        ok: false,
        reason: "running jobs are paused: GPU 97 % > pause_gpu 90 %",
        cause: "paused",
      });
    } finally {
      fed.dispose();
    }
  });

  test("nvidia-smi answering [N/A]: the GPU is unknown, admitted with a note", async () => {
    await using dir = tempDir();
    const path = standIn(dir, "nvidia-smi", join(repoRoot, "test/fixtures/nvidia-smi/query-gpu-unreadable.csv"));
    const fed = await feedWith(path, limits, dir);
    try {
      await Bun.sleep(300); // the reader has answered its lines, none of them readable
      await fed.sampleAfterReading(1, () => true);
      const sample = fed.samples.at(-1)!;
      expect(sample.gpuPercent).toBeUndefined();
      expect(sample.gpuUnreadable).toBe(true);
      expect(fed.governor.admit()).toMatchObject({ ok: true, note: expect.stringContaining("GPU load unknown") });
    } finally {
      fed.dispose();
    }
  });

  test("tegrastats recorded on an AGX Orin: GR3D load and shared memory, against the GPU limits", async () => {
    await using dir = tempDir();
    const path = standIn(dir, "tegrastats", join(repoRoot, "test/fixtures/jetson-orin/tegrastats.txt"));
    const fed = await feedWith(path, { ...limits, maxGpuBefore: 10 }, dir);
    try {
      await fed.sampleAfterReading(1, (sample) => sample.gpuPercent !== undefined);
      expect(fed.samples.at(-1)).toMatchObject({ gpuPercent: 12, gpuMemoryUsedMb: 2567, gpuMemoryTotalMb: 30536 });
      expect(fed.governor.admit()).toEqual({
        ok: false,
        reason: "GPU 12 % ≥ max_gpu_before 10 %",
        cause: "max_gpu_before",
      });
    } finally {
      fed.dispose();
    }
  });
});
