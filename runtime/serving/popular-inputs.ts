import { KeptInputs } from "./kept-inputs.ts";

const EMPTY = 0;

/**
 * The inputs a model is asked for most, for `cache.pregenerate.top`. Only inputs asked again are counted
 * (the caller knows: the cache answered them); the one-off inputs that are the bulk of the traffic leave
 * nothing behind, so a flood of them costs nothing here and cannot push out the popular ones.
 *
 * The counts sit in typed arrays, keyed by 64 bits of the input's hash, and only the `keep` most asked
 * hold their rows: counted inputs kept as objects outlived the load that made them and held the
 * collector's blocks around them resident after it.
 */
export class PopularInputs {
  /** Open addressing: two words of hash per place, with its count (0: empty) and its index in `kept` (-1: none). */
  private readonly keys: Uint32Array;
  private readonly counts: Uint32Array;
  private readonly keptAt: Int32Array;
  private readonly mask: number;
  private used = 0;
  private readonly kept: KeptInputs;
  /** At most the least count among `kept` once it is full. */
  private leastKept = 0;

  /** Counts up to twice `capacity` inputs, then keeps the `capacity` most asked; holds the rows of `keep`. */
  constructor(
    private readonly capacity: number,
    keep: number,
  ) {
    const places = 2 ** Math.ceil(Math.log2(4 * capacity + 4));
    this.keys = new Uint32Array(2 * places);
    this.counts = new Uint32Array(places);
    this.keptAt = new Int32Array(places).fill(-1);
    this.mask = places - 1;
    this.kept = new KeptInputs(keep);
  }

  /**
   * `hash` is the input's hash in 16 hex digits or more; `x` its `rows` rows, copied only when the input joins
   * the most asked.
   */
  note(hash: string, askedBefore: boolean, x: Float32Array, rows: number): void {
    const high = hexWord(hash, 0);
    const low = hexWord(hash, 8);
    let place = this.find(high, low);
    if (this.counts[place] !== EMPTY) this.counts[place]!++;
    else if (!askedBefore) return;
    else {
      this.insert(place, high, low, 2);
      if (this.used > 2 * this.capacity) {
        this.prune();
        place = this.find(high, low);
        if (this.counts[place] === EMPTY) return;
      }
    }
    this.keepIfAmongMost(place, x, rows);
  }

  /** The `n` most asked, each as rows of numbers. */
  top(n: number): number[][][] {
    const { kept } = this;
    return Array.from({ length: kept.size }, (_, index) => index)
      .sort((a, b) => kept.counts[b]! - kept.counts[a]!)
      .slice(0, n)
      .map((index) => kept.rowsOf(index));
  }

  private keepIfAmongMost(place: number, x: Float32Array, rows: number): void {
    const { kept } = this;
    const count = this.counts[place]!;
    const index = this.keptAt[place]!;
    if (index >= 0) {
      kept.counts[index] = count;
      return;
    }
    const high = this.keys[2 * place]!;
    const low = this.keys[2 * place + 1]!;
    if (kept.add(high, low, count, x, rows)) {
      this.keptAt[place] = kept.size - 1;
      return;
    }
    // The kept counts only grow, so their least once seen bounds it from below: most asks end here.
    if (count <= this.leastKept) return;
    const least = kept.least();
    if (least < 0) return;
    this.leastKept = kept.counts[least]!;
    if (this.leastKept >= count) return;
    this.keptAt[this.find(kept.highs[least]!, kept.lows[least]!)] = -1;
    kept.replace(least, high, low, count, x, rows);
    this.keptAt[place] = least;
  }

  /** The input's place, or the empty place where it would go. */
  private find(high: number, low: number): number {
    let place = (high ^ Math.imul(low, 0x9e3779b1)) & this.mask;
    while (this.counts[place] !== EMPTY && (this.keys[2 * place] !== high || this.keys[2 * place + 1] !== low))
      place = (place + 1) & this.mask;
    return place;
  }

  private insert(place: number, high: number, low: number, count: number): void {
    this.keys[2 * place] = high;
    this.keys[2 * place + 1] = low;
    this.counts[place] = count;
    this.keptAt[place] = -1;
    this.used++;
  }

  /** Keeps the `capacity` most asked (the kept rows' inputs among them), in a table rebuilt without the rest. */
  private prune(): void {
    const keys = this.keys.slice();
    const counts = this.counts.slice();
    const keptAt = this.keptAt.slice();
    const order = [...counts.keys()]
      .filter((place) => counts[place] !== EMPTY)
      .sort((a, b) => Number(keptAt[b]! >= 0) - Number(keptAt[a]! >= 0) || counts[b]! - counts[a]!)
      .slice(0, this.capacity);
    this.counts.fill(EMPTY);
    this.used = 0;
    for (const old of order) {
      const place = this.find(keys[2 * old]!, keys[2 * old + 1]!);
      this.insert(place, keys[2 * old]!, keys[2 * old + 1]!, counts[old]!);
      this.keptAt[place] = keptAt[old]!;
    }
  }
}

/** The 32 bits written as 8 hex digits from `at`. */
function hexWord(hex: string, at: number): number {
  let word = 0;
  for (let i = at; i < at + 8; i++) {
    const code = hex.charCodeAt(i) | 0x20;
    word = (word << 4) | (code >= 0x61 ? code - 0x57 : code - 0x30);
  }
  return word >>> 0;
}

/** The popular inputs of each model, for `pregenerate.top`. */
export class PopularInputsByModel {
  private readonly models = new Map<string, PopularInputs>();

  constructor(
    private readonly capacity: number,
    private readonly keep: number,
  ) {}

  /** A cache hit means the input was asked before (or pregenerated): only those are counted. */
  note(model: string, hash: string, askedBefore: boolean, x: Float32Array, rows: number): void {
    let popular = this.models.get(model);
    // A model none of whose inputs was asked twice has nothing to count: its table waits for one.
    if (!popular && !askedBefore) return;
    if (!popular) this.models.set(model, (popular = new PopularInputs(this.capacity, this.keep)));
    popular.note(hash, askedBefore, x, rows);
  }

  /** The model's `n` most asked; none for `n` 0. */
  top(model: string, n: number): number[][][] {
    if (n <= 0) return [];
    return this.models.get(model)?.top(n) ?? [];
  }
}
