import type { GovernorLimits } from "./governor.ts";
import { admitOnGpu } from "./gpu-limits.ts";
import type { Sample } from "./sampler.ts";

/**
 * The limit that holds runs back, in a word that stays while its figure moves: the scheduler records a
 * deferral when its cause changes, not each time the CPU moves a percent. `disk`: the scheduler's full disk.
 */
export type DeferralCause =
  | "no_reading"
  | "paused"
  | "latency_guard"
  | "max_cpu_before"
  | "max_memory_before"
  | "max_temperature"
  | "max_gpu_before"
  | "max_gpu_memory_before"
  | "disk";

/** `note`: admitted, with something the user should know (a GPU that could not be read). */
export type Admission = { ok: true; note?: string } | { ok: false; reason: string; cause: DeferralCause };

/** Whether the latest readings let a run start: CPU, memory and temperature, then the GPU's limits. */
export function admitOnReadings(sample: Sample, limits: GovernorLimits): Admission {
  const over = (cause: DeferralCause, reason: string): Admission => ({ ok: false, reason, cause });
  // 100 % means no limit: a fully busy machine still admits.
  if (limits.maxCpuBefore < 100 && sample.cpuPercent >= limits.maxCpuBefore)
    return over("max_cpu_before", `CPU ${sample.cpuPercent.toFixed(0)} % ≥ max_cpu_before ${limits.maxCpuBefore} %`);
  if (limits.maxMemoryBefore < 100 && sample.memoryPercent >= limits.maxMemoryBefore) {
    const memory = sample.memoryPercent.toFixed(0);
    return over("max_memory_before", `memory ${memory} % ≥ max_memory_before ${limits.maxMemoryBefore} %`);
  }
  if (sample.temperatureC !== undefined && sample.temperatureC >= limits.maxTemperature) {
    const celsius = sample.temperatureC.toFixed(0);
    return over("max_temperature", `temperature ${celsius} °C ≥ max_temperature ${limits.maxTemperature} °C`);
  }
  return admitOnGpu(sample, limits);
}
