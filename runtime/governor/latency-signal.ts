import type { LatencyWindow } from "./latency-guard.ts";
import { LatencyHistogram } from "./latency-histogram.ts";
import { runQueueWaitMs } from "./run-queue-wait.ts";

/**
 * How often the serving thread's lateness is sampled, in ms: it followed the clients' p99 best (docs/performance.md).
 */
const SAMPLE_EVERY_MS = 10;

/**
 * What the latency guard watches: how long the thread answering predictions was kept from its work in each
 * 10 ms, beside how many predictions it answered. That is how late a 10 ms timer fires (event-loop delay), or,
 * if longer, how long the thread waited for a CPU in those 10 ms: a thread busy with a stream of requests
 * fires its timers on time, yet each time a request wakes it, it may wait for a core that training holds. The
 * thread's own timing of an answer misses both waits. The timer runs only while predictions come: a window
 * without one stops it until the next answer.
 */
export class LatencySignal {
  private delays = new LatencyHistogram();
  private timer?: ReturnType<typeof setInterval>;
  private answers = 0;
  private since: number;

  /** `waitedMs`: the serving thread's total wait for a CPU so far, in ms (undefined: unknown). */
  constructor(
    now: number,
    private readonly waitedMs: () => number | undefined = runQueueWaitMs,
  ) {
    this.since = now;
  }

  answered(): void {
    this.answers++;
    if (this.timer) return;
    // Real time, whatever clock drives the windows: lateness is the thread's, not the schedule's.
    let expected = performance.now() + SAMPLE_EVERY_MS;
    let waitedBefore = this.waitedMs();
    this.timer = setInterval(() => {
      const now = performance.now();
      const waited = this.waitedMs();
      const queued = waited !== undefined && waitedBefore !== undefined ? waited - waitedBefore : 0;
      this.delays.record(Math.max(0, now - expected, queued));
      expected = now + SAMPLE_EVERY_MS;
      waitedBefore = waited;
    }, SAMPLE_EVERY_MS);
    this.timer.unref?.();
  }

  /** Ends the window at `now`: its delays and their p99 (undefined without a sample), answers and rate. */
  take(now: number): LatencyWindow {
    const delays = this.delays;
    const window: LatencyWindow = {
      at: now,
      p99Ms: delays.percentile(0.99),
      delays,
      answers: this.answers,
      rate: (this.answers * 1000) / Math.max(1, now - this.since),
    };
    this.delays = new LatencyHistogram();
    if (this.answers === 0) this.stop();
    this.answers = 0;
    this.since = now;
    return window;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
