import type { Admission } from "./admission.ts";
import type { GovernorLimits } from "./governor.ts";
import type { Sample } from "./sampler.ts";

/**
 * The GPU's share of the governor's decisions, like the CPU's and memory's. A GPU that cannot be read is
 * unknown: it neither holds a run back nor pauses one, and admission says so rather than reading it as idle.
 */
export function admitOnGpu(sample: Sample, limits: GovernorLimits): Admission {
  const { gpuPercent } = sample;
  if (limits.maxGpuBefore < 100 && gpuPercent !== undefined && gpuPercent >= limits.maxGpuBefore) {
    const reason = `GPU ${gpuPercent.toFixed(0)} % ≥ max_gpu_before ${limits.maxGpuBefore} %`;
    return { ok: false, reason, cause: "max_gpu_before" };
  }
  const memory = gpuMemoryPercent(sample);
  if (limits.maxGpuMemoryBefore < 100 && memory !== undefined && memory >= limits.maxGpuMemoryBefore) {
    return {
      ok: false,
      reason: `GPU memory ${memory.toFixed(0)} % ≥ max_gpu_memory_before ${limits.maxGpuMemoryBefore} %`,
      cause: "max_gpu_memory_before",
    };
  }
  if (sample.gpuUnreadable)
    return { ok: true, note: "GPU load unknown (its reader gave no reading); starting without the GPU limits" };
  return { ok: true };
}

export function gpuOverReason(sample: Sample, limits: GovernorLimits): string | undefined {
  const { gpuPercent } = sample;
  if (limits.pauseGpu < 100 && gpuPercent !== undefined && gpuPercent > limits.pauseGpu)
    return `GPU ${gpuPercent.toFixed(0)} % > pause_gpu ${limits.pauseGpu} %`;
  const memory = gpuMemoryPercent(sample);
  const fraction = limits.gpuMemoryFraction * 100;
  if (fraction < 100 && memory !== undefined && memory > fraction)
    return `GPU memory ${memory.toFixed(0)} % > gpu_memory_fraction ${fraction.toFixed(0)} %`;
  return undefined;
}

/**
 * Unknown readings count as calm: a reader that stops must not keep runs paused for ever. GPU memory is calm
 * back under gpu_memory_fraction, not lower: a paused trainer keeps its own GPU memory.
 */
export function gpuIsCalm(sample: Sample, limits: GovernorLimits): boolean {
  const memory = gpuMemoryPercent(sample);
  const loadCalm = limits.pauseGpu >= 100 || sample.gpuPercent === undefined || sample.gpuPercent < limits.resumeGpu;
  const memoryCalm = limits.gpuMemoryFraction >= 1 || memory === undefined || memory <= limits.gpuMemoryFraction * 100;
  return loadCalm && memoryCalm;
}

export function gpuMemoryPercent(sample: Sample): number | undefined {
  const { gpuMemoryUsedMb: used, gpuMemoryTotalMb: total } = sample;
  return used !== undefined && total !== undefined && total > 0 ? (used / total) * 100 : undefined;
}
