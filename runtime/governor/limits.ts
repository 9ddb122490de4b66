import { durationMs } from "../config/duration.ts";
import type { Profile } from "../config/schema.ts";
import type { GovernorLimits } from "./governor.ts";

export function governorLimits(governor: Profile["governor"]): GovernorLimits {
  return {
    maxCpuBefore: governor.max_cpu_before,
    maxMemoryBefore: governor.max_memory_before,
    maxTemperature: governor.max_temperature,
    pauseCpu: governor.pause_cpu,
    pauseMemory: governor.pause_memory,
    resumeCpu: governor.resume_cpu,
    resumeMemory: governor.resume_memory,
    pausePredictionsPerSecond: governor.pause_predictions_per_s,
    pauseAfter: governor.pause_after,
    maxPauseMs: durationMs(governor.max_pause),
  };
}
