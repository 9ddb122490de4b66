import type { Clock } from "../plugin-api.ts";
import type { ResourceSampler, Sample } from "./sampler.ts";

/** Samples every `intervalMs` and hands each sample on; the returned function stops it. */
export function startSampling(
  sampler: ResourceSampler,
  intervalMs: number,
  clock: Clock,
  onSample: (sample: Sample) => void,
): () => void {
  sampler.sample(); // the first CPU reading only sets the baseline
  const timer = clock.setInterval(() => onSample(sampler.sample()), intervalMs);
  return () => clock.clearInterval(timer);
}
