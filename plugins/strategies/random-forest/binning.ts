import { seededRandom } from "../shared/random.ts";

/**
 * Per-feature bin edges. Edges are float32 values taken from the data, and a value v falls in bin
 * b = (number of edges < v). A split "bin ≤ b" sends left exactly the values ≤ some float32 threshold t
 * between the bin's largest value and the next bin's smallest, which is how ONNX Runtime's TreeEnsemble
 * compares (BRANCH_LEQ): exported trees reproduce training splits exactly.
 */
export interface Binning {
  edges: Float32Array[];
}

const SAMPLE_FOR_EDGES = 100_000;

export function computeBinning(x: Float32Array, rows: number, features: number, maxBins = 256, seed = 0): Binning {
  const random = seededRandom(seed ^ 0x5eed);
  const sampleSize = Math.min(rows, SAMPLE_FOR_EDGES);
  const sampleRows = new Uint32Array(sampleSize);
  for (let i = 0; i < sampleSize; i++) sampleRows[i] = rows <= SAMPLE_FOR_EDGES ? i : Math.floor(random() * rows);
  // In row order the sample reads the table forwards, all features of a row at once; the edges depend only
  // on which values are drawn, not on their order.
  sampleRows.sort();
  const columns = Array.from({ length: features }, () => new Float32Array(sampleSize));
  for (let i = 0; i < sampleSize; i++) {
    const at = sampleRows[i]! * features;
    for (let j = 0; j < features; j++) columns[j]![i] = x[at + j]!;
  }
  const edges: Float32Array[] = [];
  for (let j = 0; j < features; j++) {
    const values = columns[j]!.sort();
    let distinct = 0;
    for (let i = 0; i < sampleSize; i++) if (i === 0 || values[i] !== values[i - 1]) distinct++;
    if (distinct <= maxBins - 1) {
      // Every distinct value but the largest is an edge.
      const all = new Float32Array(Math.max(0, distinct - 1));
      for (let i = 0, n = 0; n < all.length; i++) if (i === 0 || values[i] !== values[i - 1]) all[n++] = values[i]!;
      edges.push(all);
      continue;
    }
    // Quantile edges over the sorted sample; duplicates collapse.
    const chosen: number[] = [];
    for (let k = 1; k < maxBins; k++) {
      const value = values[Math.min(sampleSize - 1, Math.floor((k * sampleSize) / maxBins))]!;
      if (chosen.length === 0 || value > chosen[chosen.length - 1]!) chosen.push(value);
    }
    edges.push(Float32Array.from(chosen));
  }
  return { edges };
}

export interface BinnedColumns {
  /** Column-major bin indexes (feature j of row i at j * rows + i), in a buffer workers can share. */
  bins: Uint8Array;
  /** Per feature and bin, the smallest and largest training value in it: split thresholds go midway. */
  binMin: Float32Array[];
  binMax: Float32Array[];
}

// Rows binned together, feature by feature: their values stay in cache between the features' passes.
const BLOCK_ROWS = 4096;

export function binColumns(x: Float32Array, rows: number, features: number, binning: Binning): BinnedColumns {
  const bins = new Uint8Array(new SharedArrayBuffer(rows * features));
  const bits = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const finders = binning.edges.map(binFinder);
  const binMin = binning.edges.map((edges) => new Float32Array(edges.length + 1).fill(Infinity));
  const binMax = binning.edges.map((edges) => new Float32Array(edges.length + 1).fill(-Infinity));
  for (let from = 0; from < rows; from += BLOCK_ROWS) {
    const to = Math.min(rows, from + BLOCK_ROWS);
    for (let j = 0; j < features; j++)
      binBlock(x, bits, features, j, from, to, binning.edges[j]!, finders[j]!, bins, j * rows, binMin[j]!, binMax[j]!);
  }
  return { bins, binMin, binMax };
}

/**
 * Bins of rows [from, to) of feature j: b = the number of edges below the value. The first 16 bits of the
 * value's order key (sign, exponent, 7 bits of mantissa) pick the few edges it can fall between, and a
 * binary search among those settles it, instead of one among all 255.
 */
function binBlock(
  x: Float32Array,
  bits: Uint32Array,
  features: number,
  j: number,
  from: number,
  to: number,
  edges: Float32Array,
  finder: Uint8Array,
  bins: Uint8Array,
  offset: number,
  low: Float32Array,
  high: Float32Array,
): void {
  for (let i = from; i < to; i++) {
    const at = i * features + j;
    const value = x[at]!;
    let b = 0;
    // NaN compares false with every edge: bin 0, as a search over the edges gives.
    if (value === value) {
      const prefix = orderKey(bits[at]!) >>> 16;
      b = finder[prefix]!;
      let last = finder[prefix + 1]!;
      while (b < last) {
        const mid = (b + last) >>> 1;
        if (edges[mid]! < value) b = mid + 1;
        else last = mid;
      }
    }
    bins[offset + i] = b;
    if (value < low[b]!) low[b] = value;
    if (value > high[b]!) high[b] = value;
  }
}

/**
 * The bits of a float32 as an unsigned number in the order of the values (-0 as +0). finder[p] is the
 * number of edges whose key is below p << 16, so a value with key prefix p has between finder[p] and
 * finder[p + 1] edges below it.
 */
function orderKey(bits: number): number {
  if (bits === 0x80000000) return 0x80000000;
  return (bits & 0x80000000 ? ~bits : bits | 0x80000000) >>> 0;
}

function binFinder(edges: Float32Array): Uint8Array {
  const edgeBits = new Uint32Array(edges.buffer, edges.byteOffset, edges.length);
  const finder = new Uint8Array(65537);
  let e = 0;
  for (let prefix = 0; prefix <= 65536; prefix++) {
    while (e < edges.length && orderKey(edgeBits[e]!) < prefix * 65536) e++;
    finder[prefix] = e;
  }
  return finder;
}

const scratch = new Float32Array(1);
const scratchBits = new Int32Array(scratch.buffer);

/**
 * The float32 threshold midway between the largest value going left and the smallest going right, rounded
 * down: every left value is ≤ it and every right value is > it, in float32 as in ONNX Runtime.
 */
export function midpointThreshold(leftMax: number, rightMin: number): number {
  const middle = leftMax / 2 + rightMin / 2;
  scratch[0] = middle;
  if (scratch[0]! > middle) {
    // Rounded up: step one float32 down (towards -∞).
    scratchBits[0] = scratch[0]! > 0 ? scratchBits[0]! - 1 : scratch[0] === 0 ? -2147483647 : scratchBits[0]! + 1;
  }
  // biome-ignore lint/complexity/useMathMinMax: a -0 threshold stays -0 in the model, where Math.max would write 0.
  return scratch[0]! < leftMax ? leftMax : scratch[0]!;
}
