import type { EventBus } from "../events/bus.ts";
import { releaseFreeMemory } from "../os/free-memory.ts";
import type { Clock, Logger } from "../plugin-api.ts";

/** Quiet after predictions, runs or sessions loaded before freed memory goes back to the system. */
const MEMORY_RELEASE_QUIET_MS = 30_000;

export interface IdleReleaseOptions {
  clock: Clock;
  /** How long nothing must have happened before `release` runs. */
  quietMs: number;
  release(): void;
}

/**
 * Runs `release` once the daemon has been quiet for `quietMs` after some activity (predictions, runs, sessions
 * loaded), then not again until there has been more: a burst of requests or a run leaves garbage and free
 * pages that the collector and the allocators keep for a next burst, and an idle daemon only holds them.
 */
export class IdleRelease {
  /** When the latest activity was; undefined once released since. */
  private lastActivity: number | undefined;

  constructor(private readonly options: IdleReleaseOptions) {}

  activity(): void {
    this.lastActivity = this.options.clock.now();
  }

  /** Checks three times per quiet period; returns the stop. */
  start(): () => void {
    const { clock, quietMs } = this.options;
    const timer = clock.setInterval(() => this.check(), quietMs / 3);
    return () => clock.clearInterval(timer);
  }

  private check(): void {
    if (this.lastActivity === undefined || this.options.clock.now() - this.lastActivity < this.options.quietMs) return;
    this.lastActivity = undefined;
    this.options.release();
  }
}

export interface MemoryReleaseParts {
  bus: EventBus;
  /** Subscribes to each predict request; returns the unsubscribe. */
  onPrediction(listener: () => void): () => void;
  logger: Logger;
  clock: Clock;
}

/** What a burst of predictions or a run freed goes back to the system once the daemon is quiet; returns the stop. */
export function startMemoryRelease({ bus, onPrediction, logger, clock }: MemoryReleaseParts): () => void {
  const mb = (bytes: number | undefined) => (bytes === undefined ? undefined : Math.round(bytes / 1_048_576));
  const idle = new IdleRelease({
    clock,
    quietMs: MEMORY_RELEASE_QUIET_MS,
    release: () => {
      const { before, after, trimmed } = releaseFreeMemory();
      const fields = { rss_mb_before: mb(before), rss_mb_after: mb(after), malloc_trim: trimmed };
      logger.debug("gave freed memory back to the system", fields);
    },
  });
  const unsubscribe = bus.subscribe((event) => {
    if (event.type.startsWith("run.") || event.type.startsWith("model.")) idle.activity();
  });
  const unlisten = onPrediction(() => idle.activity());
  const stop = idle.start();
  return () => {
    stop();
    unlisten();
    unsubscribe();
  };
}
