import { monitorEventLoopDelay } from "node:perf_hooks";
import type { LatencyWindow } from "./latency-guard.ts";

/** The timer the event-loop delay is sampled with, in ms: it followed the clients' p99 best (docs/performance.md). */
const RESOLUTION_MS = 10;

/**
 * What the latency guard watches: how late the thread answering predictions gets to its work (event-loop
 * delay, p99 over a window), beside how many predictions it answered. The thread's own timing of an answer
 * misses the wait for the thread to be woken, which is what training on the other cores costs. The monitor
 * runs only while predictions come: a window without one turns it off until the next answer.
 */
export class LatencySignal {
  private readonly histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private watching = false;
  private answers = 0;
  private since: number;

  constructor(now: number) {
    this.since = now;
  }

  answered(): void {
    this.answers++;
    if (!this.watching) {
      this.watching = true;
      this.histogram.reset();
      this.histogram.enable();
    }
  }

  /** Ends the window at `now`: its p99 (undefined without a delay sample), answers and rate. */
  take(now: number): LatencyWindow {
    const samples = this.watching && this.histogram.count > 0;
    const window: LatencyWindow = {
      at: now,
      p99Ms: samples ? this.histogram.percentile(99) / 1e6 : undefined,
      answers: this.answers,
      rate: (this.answers * 1000) / Math.max(1, now - this.since),
    };
    this.histogram.reset();
    if (this.answers === 0) this.stop();
    this.answers = 0;
    this.since = now;
    return window;
  }

  stop(): void {
    if (this.watching) this.histogram.disable();
    this.watching = false;
  }
}
