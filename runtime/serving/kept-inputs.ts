/**
 * The most asked inputs of one model with their rows, in typed arrays: a count, the 64 bits of hash that find
 * the input again, and its rows (float32, in the model's feature order) in one shared arena. Kept as an object
 * and a Float32Array each, inputs that joined the most asked during a load were scattered over the collector's
 * blocks among the load's garbage and held those blocks resident after it.
 */
export class KeptInputs {
  readonly counts: Uint32Array;
  readonly highs: Uint32Array;
  readonly lows: Uint32Array;
  private readonly rowCounts: Uint32Array;
  /** Where each input's values start in the arena, how many there are and how many fit there. */
  private readonly offsets: Uint32Array;
  private readonly lengths: Uint32Array;
  private readonly room: Uint32Array;
  private arena = new Float32Array(0);
  private end = 0;
  size = 0;

  constructor(readonly capacity: number) {
    this.counts = new Uint32Array(capacity);
    this.highs = new Uint32Array(capacity);
    this.lows = new Uint32Array(capacity);
    this.rowCounts = new Uint32Array(capacity);
    this.offsets = new Uint32Array(capacity);
    this.lengths = new Uint32Array(capacity);
    this.room = new Uint32Array(capacity);
  }

  /** Adds the input, copying its `rows` rows from `x`; false when all `capacity` places are taken. */
  add(high: number, low: number, count: number, x: Float32Array, rows: number): boolean {
    if (this.size === this.capacity) return false;
    // A new place has no room yet: places are only ever appended, so its `room` is still 0.
    this.replace(this.size++, high, low, count, x, rows);
    return true;
  }

  /** Puts the input at `index` in place of the one there, copying its rows. */
  replace(index: number, high: number, low: number, count: number, x: Float32Array, rows: number): void {
    this.counts[index] = count;
    this.highs[index] = high;
    this.lows[index] = low;
    this.rowCounts[index] = rows;
    this.lengths[index] = x.length;
    if (x.length > this.room[index]!) {
      this.room[index] = 0;
      this.makeRoom(x.length);
      this.offsets[index] = this.end;
      this.room[index] = x.length;
      this.end += x.length;
    }
    this.arena.set(x, this.offsets[index]);
  }

  /** The place with the least count; -1 when none is kept. */
  least(): number {
    if (this.size === 0) return -1;
    let least = 0;
    for (let i = 1; i < this.size; i++) if (this.counts[i]! < this.counts[least]!) least = i;
    return least;
  }

  /** The input's rows as arrays of numbers. */
  rowsOf(index: number): number[][] {
    const rows = this.rowCounts[index]!;
    const width = this.lengths[index]! / rows;
    const at = this.offsets[index]!;
    return Array.from({ length: rows }, (_, row) =>
      Array.from(this.arena.subarray(at + row * width, at + (row + 1) * width)),
    );
  }

  /** Room for `length` more values at the arena's end: the kept inputs packed into a larger arena if need be. */
  private makeRoom(length: number): void {
    if (this.end + length <= this.arena.length) return;
    let live = length;
    for (let i = 0; i < this.size; i++) live += this.room[i]!;
    const arena = new Float32Array(Math.max(2 * live, 256));
    let end = 0;
    for (let i = 0; i < this.size; i++) {
      const room = this.room[i]!;
      if (room === 0) continue;
      arena.set(this.arena.subarray(this.offsets[i]!, this.offsets[i]! + this.lengths[i]!), end);
      this.offsets[i] = end;
      end += room;
    }
    this.arena = arena;
    this.end = end;
  }
}
