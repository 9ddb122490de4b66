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
  const edges: Float32Array[] = [];
  const values = new Float32Array(sampleSize);
  for (let j = 0; j < features; j++) {
    for (let i = 0; i < sampleSize; i++) values[i] = x[sampleRows[i]! * features + j]!;
    values.sort();
    const unique: number[] = [];
    for (let i = 0; i < sampleSize; i++) if (i === 0 || values[i] !== values[i - 1]) unique.push(values[i]!);
    if (unique.length <= maxBins - 1) {
      edges.push(Float32Array.from(unique.slice(0, -1)));
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

export function binColumns(x: Float32Array, rows: number, features: number, binning: Binning): BinnedColumns {
  const bins = new Uint8Array(new SharedArrayBuffer(rows * features));
  const binMin: Float32Array[] = [];
  const binMax: Float32Array[] = [];
  for (let j = 0; j < features; j++) {
    const edges = binning.edges[j]!;
    const low = new Float32Array(edges.length + 1).fill(Infinity);
    const high = new Float32Array(edges.length + 1).fill(-Infinity);
    const offset = j * rows;
    for (let i = 0; i < rows; i++) {
      const value = x[i * features + j]!;
      const b = binOf(edges, value);
      bins[offset + i] = b;
      if (value < low[b]!) low[b] = value;
      if (value > high[b]!) high[b] = value;
    }
    binMin.push(low);
    binMax.push(high);
  }
  return { bins, binMin, binMax };
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
  return scratch[0]! < leftMax ? leftMax : scratch[0]!;
}

function binOf(edges: Float32Array, value: number): number {
  let low = 0;
  let high = edges.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (edges[mid]! < value) low = mid + 1;
    else high = mid;
  }
  return low;
}
