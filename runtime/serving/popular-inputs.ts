import type { TableRequest } from "../inference/prediction-input.ts";

/**
 * The inputs a model is asked for most, for `cache.pregenerate.top`. Only inputs asked again are counted
 * (the caller knows: the cache answered them); the one-off inputs that are the bulk of the traffic leave
 * nothing behind, so a flood of them costs nothing here and cannot push out the popular ones.
 */
export class PopularInputs {
  private counted = new Map<string, { inputs: number[][]; count: number }>();

  constructor(private readonly capacity: number) {}

  /** `inputs` is called only for an input counted for the first time. */
  note(hash: string, askedBefore: boolean, inputs: () => number[][]): void {
    const known = this.counted.get(hash);
    if (known) {
      known.count++;
      return;
    }
    if (!askedBefore) return;
    this.counted.set(hash, { inputs: inputs(), count: 2 });
    // Pruned in bulk once twice full, so the sort is rare: the most asked stay.
    if (this.counted.size > 2 * this.capacity)
      this.counted = new Map([...this.counted].sort((a, b) => b[1].count - a[1].count).slice(0, this.capacity));
  }

  /** The `n` most asked. */
  top(n: number): number[][][] {
    return [...this.counted.values()]
      .sort((a, b) => b.count - a.count)
      .slice(0, n)
      .map((entry) => entry.inputs);
  }
}

/** The popular inputs of each model, for `pregenerate.top`. */
export class PopularInputsByModel {
  private readonly models = new Map<string, PopularInputs>();

  constructor(private readonly capacity: number) {}

  /** A cache hit means the input was asked before (or pregenerated): only those are counted. */
  note(model: string, hash: string, askedBefore: boolean, request: TableRequest, names: string[]): void {
    let popular = this.models.get(model);
    if (!popular) this.models.set(model, (popular = new PopularInputs(this.capacity)));
    popular.note(
      hash,
      askedBefore,
      () => request.inputs ?? request.rows!.map((row) => names.map((name) => row[name]!)),
    );
  }

  /** The model's `n` most asked; none for `n` 0. */
  top(model: string, n: number): number[][][] {
    if (n <= 0) return [];
    return this.models.get(model)?.top(n) ?? [];
  }
}
