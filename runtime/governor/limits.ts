import { availableParallelism } from "node:os";
import { durationMs } from "../config/duration.ts";
import type { Profile } from "../config/schema.ts";
import type { GovernorLimits } from "./governor.ts";

export function governorLimits(governor: Profile["governor"], cores = availableParallelism()): GovernorLimits {
  return {
    maxCpuBefore: governor.max_cpu_before,
    maxMemoryBefore: governor.max_memory_before,
    maxTemperature: governor.max_temperature,
    pauseCpu: governor.pause_cpu,
    pauseMemory: governor.pause_memory,
    resumeCpu: governor.resume_cpu,
    resumeMemory: governor.resume_memory,
    maxGpuBefore: governor.max_gpu_before,
    maxGpuMemoryBefore: governor.max_gpu_memory_before,
    pauseGpu: governor.pause_gpu,
    resumeGpu: governor.resume_gpu,
    gpuMemoryFraction: governor.gpu_memory_fraction,
    pausePredictionsPerSecond: governor.pause_predictions_per_s,
    spareCorePredictionsPerSecond: governor.spare_core_predictions_per_s,
    cores,
    pauseAfter: governor.pause_after,
    maxPauseMs: durationMs(governor.max_pause),
    latencyGuard: {
      enabled: governor.latency_guard.enabled,
      p99Ms: governor.latency_guard.p99_ms,
      factor: governor.latency_guard.factor,
      windowMs: durationMs(governor.latency_guard.window),
      pauseAfter: governor.latency_guard.pause_after,
    },
  };
}
