import { EdgetrainError, messageOf } from "../errors.ts";

export interface CheckpointRules {
  signal: AbortSignal;
  /** `governor.memory_limit_mb`: the run stops rather than take the device down. */
  memoryLimitMb?: number;
  /** Resident memory of the run; the process's own RSS for in-process strategies and their workers. */
  measureRssMb?: () => number;
  /** Resolves when a paused run may continue. */
  whilePaused?: () => Promise<void>;
  /** Resolves when the run's thread `worker` may train (the governor may let fewer threads train than it has). */
  whileHeldBack?: (worker: number) => Promise<void>;
}

const YIELD_EVERY_MS = 20;

/**
 * What a strategy's `checkpoint(worker)` does between trees or epochs: honour cancel, memory limit, pause and thread
 * allowance.
 */
export function makeCheckpoint(rules: CheckpointRules): (worker?: number) => Promise<void> {
  const measure = rules.measureRssMb ?? (() => process.memoryUsage.rss() / 1048576);
  let yieldedAt = performance.now();
  return async (worker = 0) => {
    // Pause and cancel reach a run's thread as messages. A strategy that trains on that thread and awaits only
    // checkpoint() (one random-forest worker) never gives them a turn unless checkpoint() itself does.
    if (performance.now() - yieldedAt >= YIELD_EVERY_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      yieldedAt = performance.now();
    }
    if (rules.signal.aborted)
      throw new EdgetrainError(
        "cancelled",
        `run cancelled: ${rules.signal.reason === undefined ? "cancel requested" : messageOf(rules.signal.reason)}`,
        { details: { cancelled: true } },
      );
    if (rules.memoryLimitMb !== undefined) {
      const rss = measure();
      if (rss > rules.memoryLimitMb) {
        throw new EdgetrainError(
          "run_failed",
          `run stopped: it uses ${Math.round(rss)} MB, over governor.memory_limit_mb ${rules.memoryLimitMb} MB`,
          {
            details: { rss_mb: Math.round(rss), memory_limit_mb: rules.memoryLimitMb },
            hint: "use fewer rows, trees or workers, or raise governor.memory_limit_mb in the profile",
          },
        );
      }
    }
    await rules.whilePaused?.();
    await rules.whileHeldBack?.(worker);
  };
}
