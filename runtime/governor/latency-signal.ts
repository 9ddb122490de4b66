import type { LatencyWindow } from "./latency-guard.ts";
import { LatencyHistogram } from "./latency-histogram.ts";

/**
 * How often the serving thread's lateness is sampled, in ms: it followed the clients' p99 best (docs/performance.md).
 */
const SAMPLE_EVERY_MS = 10;

/**
 * What the latency guard watches: how late the thread answering predictions gets to its work (event-loop
 * delay: how late a 10 ms timer fires), beside how many predictions it answered. The thread's own timing of an
 * answer misses the wait for the thread to be woken, which is what training on the other cores costs. The timer
 * runs only while predictions come: a window without one stops it until the next answer.
 */
export class LatencySignal {
  private delays = new LatencyHistogram();
  private timer?: ReturnType<typeof setInterval>;
  private answers = 0;
  private since: number;

  constructor(now: number) {
    this.since = now;
  }

  answered(): void {
    this.answers++;
    if (this.timer) return;
    // Real time, whatever clock drives the windows: lateness is the thread's, not the schedule's.
    let expected = performance.now() + SAMPLE_EVERY_MS;
    this.timer = setInterval(() => {
      const now = performance.now();
      this.delays.record(Math.max(0, now - expected));
      expected = now + SAMPLE_EVERY_MS;
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
