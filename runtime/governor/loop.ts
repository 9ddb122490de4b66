import type { Clock } from "../plugin-api.ts";
import type { Governor } from "./governor.ts";
import type { ResourceSampler } from "./sampler.ts";

/** Samples every `intervalMs` and feeds the governor; `stop()` ends it. */
export function startGovernorLoop(governor: Governor, sampler: ResourceSampler, intervalMs: number, clock: Clock): () => void {
  sampler.sample(); // the first CPU reading only sets the baseline
  const timer = clock.setInterval(() => governor.observe(sampler.sample()), intervalMs);
  return () => clock.clearInterval(timer);
}
