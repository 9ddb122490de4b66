import { LRUCache } from "lru-cache";

/**
 * The inputs a model is asked for most, for `cache.pregenerate.top`. Inputs seen once wait in a bounded
 * least-recently-used list; asked again, they move to the counted ones. A flood of one-off inputs thus costs
 * O(1) per request and cannot push out the popular ones.
 */
export class PopularInputs {
  private readonly once: LRUCache<string, number[][]>;
  private repeated = new Map<string, { inputs: number[][]; count: number }>();

  constructor(private readonly capacity: number) {
    this.once = new LRUCache({ max: capacity });
  }

  /** `inputs` is called only for an input not seen before. */
  note(hash: string, inputs: () => number[][]): void {
    const counted = this.repeated.get(hash);
    if (counted) {
      counted.count++;
      return;
    }
    const seenOnce = this.once.get(hash);
    if (!seenOnce) {
      this.once.set(hash, inputs());
      return;
    }
    this.once.delete(hash);
    this.repeated.set(hash, { inputs: seenOnce, count: 2 });
    // Pruned in bulk once twice full, so the sort is rare: the most asked stay.
    if (this.repeated.size > 2 * this.capacity) this.repeated = new Map([...this.repeated].sort((a, b) => b[1].count - a[1].count).slice(0, this.capacity));
  }

  /** The `n` most asked, then the most recent of those asked once. */
  top(n: number): number[][][] {
    const counted = [...this.repeated.values()].sort((a, b) => b.count - a.count).slice(0, n).map((entry) => entry.inputs);
    return [...counted, ...[...this.once.values()].slice(0, n - counted.length)];
  }
}
