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

/**
 * Whether the latest readings let a run start: CPU, memory and temperature, then the GPU's limits. A figure
 * that cannot be read is unknown, as an unknown GPU: it holds nothing back, and the admission says so.
 */
export function admitOnReadings(sample: Sample, limits: GovernorLimits): Admission {
  const over = (cause: DeferralCause, reason: string): Admission => ({ ok: false, reason, cause });
  const { cpuPercent: cpu, memoryPercent: memory, temperatureC: celsius } = sample;
  // 100 % means no limit: a fully busy machine still admits.
  if (limits.maxCpuBefore < 100 && cpu !== undefined && cpu >= limits.maxCpuBefore)
    return over("max_cpu_before", `CPU ${cpu.toFixed(0)} % ≥ max_cpu_before ${limits.maxCpuBefore} %`);
  if (limits.maxMemoryBefore < 100 && memory !== undefined && memory >= limits.maxMemoryBefore)
    return over("max_memory_before", `memory ${memory.toFixed(0)} % ≥ max_memory_before ${limits.maxMemoryBefore} %`);
  if (celsius !== undefined && celsius >= limits.maxTemperature)
    return over(
      "max_temperature",
      `temperature ${celsius.toFixed(0)} °C ≥ max_temperature ${limits.maxTemperature} °C`,
    );
  const gpu = admitOnGpu(sample, limits);
  if (!gpu.ok) return gpu;
  const notes = [
    cpu === undefined && "CPU unknown (/proc/stat gave no reading); starting without the CPU limits",
    memory === undefined && "memory unknown (/proc/meminfo gave no reading); starting without the memory limits",
    gpu.note,
  ].filter((note): note is string => typeof note === "string");
  return notes.length ? { ok: true, note: notes.join("; ") } : { ok: true };
}
