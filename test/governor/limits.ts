import type { GovernorLimits } from "../../runtime/governor/governor.ts";

/** Governor limits that never hold a run back, with `overrides` for what a test exercises. */
export function testLimits(overrides: Partial<GovernorLimits> = {}): GovernorLimits {
  return {
    maxCpuBefore: 100,
    maxMemoryBefore: 100,
    maxTemperature: 200,
    pauseCpu: 100,
    pauseMemory: 100,
    resumeCpu: 100,
    resumeMemory: 100,
    maxGpuBefore: 100,
    maxGpuMemoryBefore: 100,
    pauseGpu: 100,
    resumeGpu: 100,
    gpuMemoryFraction: 1,
    pausePredictionsPerSecond: 0,
    spareCorePredictionsPerSecond: 0,
    cores: 2,
    pauseAfter: 3,
    maxPauseMs: 60_000,
    ...overrides,
  };
}
