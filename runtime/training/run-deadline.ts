import { durationMs } from "../config/duration.ts";

/** A run is warned at this share of its max_runtime, while there is still time to act (raise it, pause others). */
export const WARN_AT_SHARE = 0.9;

/** When the job sets no max_runtime and its strategy declares none. */
export const DEFAULT_MAX_RUNTIME = "2h";

/** The job's max_runtime, else its strategy's own default (`maxRuntime` of the plugin), else 2h. */
export function maxRuntimeOf(
  job: { max_runtime?: string | number },
  strategy?: { maxRuntime?: string | number },
): string | number {
  return job.max_runtime ?? strategy?.maxRuntime ?? DEFAULT_MAX_RUNTIME;
}

/**
 * Warns once at 90 % of max_runtime and ends the run at 100 %; returns what clears both. Long trainings
 * (hours) otherwise reach their limit unannounced and lose everything since their last checkpoint.
 */
export function startRunDeadline(
  maxRuntime: string | number,
  onNear: (remainingMs: number) => void,
  onPast: () => void,
): () => void {
  const limitMs = durationMs(maxRuntime);
  const clearNear = later(() => onNear(Math.round(limitMs * (1 - WARN_AT_SHARE))), limitMs * WARN_AT_SHARE);
  const clearPast = later(onPast, limitMs);
  return () => {
    clearNear();
    clearPast();
  };
}

/** setTimeout fires at once past 2^31 − 1 ms (about 24.8 days): longer limits wait in steps. */
const LONGEST_TIMEOUT_MS = 2 ** 31 - 1;

function later(callback: () => void, ms: number): () => void {
  let timer: ReturnType<typeof setTimeout>;
  const wait = (left: number) => {
    timer = setTimeout(
      () => (left > LONGEST_TIMEOUT_MS ? wait(left - LONGEST_TIMEOUT_MS) : callback()),
      Math.min(left, LONGEST_TIMEOUT_MS),
    );
  };
  wait(ms);
  return () => clearTimeout(timer);
}
