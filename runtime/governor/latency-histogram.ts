/** Bucket edges grow by this factor: a percentile read from the histogram is within 2 % above the true one. */
const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);
/** The smallest duration told apart, in ms; anything shorter counts in the first bucket. */
const FLOOR_MS = 0.01;
/** 0.01 ms · 1.02^800 ≈ 76 s: longer durations count in the last bucket. */
const BUCKETS = 800;

/**
 * Durations in ms counted in logarithmic buckets: fixed memory, a constant cost per record, and histograms of
 * consecutive windows added up, so that a percentile can be read over several windows at once.
 */
export class LatencyHistogram {
  private readonly counts = new Uint32Array(BUCKETS);
  count = 0;

  /** A histogram of `durations` (ms). */
  static of(durations: number[]): LatencyHistogram {
    const histogram = new LatencyHistogram();
    for (const ms of durations) histogram.record(ms);
    return histogram;
  }

  record(ms: number): void {
    const index = ms <= FLOOR_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / FLOOR_MS) / LOG_GROWTH));
    this.counts[index]!++;
    this.count++;
  }

  add(other: LatencyHistogram): void {
    for (let index = 0; index < BUCKETS; index++) this.counts[index]! += other.counts[index]!;
    this.count += other.count;
  }

  /**
   * The duration under which `fraction` (0–1) of the recorded ones fall (a bucket's upper edge); undefined when empty.
   */
  percentile(fraction: number): number | undefined {
    if (this.count === 0) return undefined;
    const wanted = Math.max(1, Math.ceil(fraction * this.count));
    let seen = 0;
    for (let index = 0; index < BUCKETS; index++) {
      seen += this.counts[index]!;
      if (seen >= wanted) return FLOOR_MS * GROWTH ** index;
    }
    return FLOOR_MS * GROWTH ** (BUCKETS - 1);
  }
}
