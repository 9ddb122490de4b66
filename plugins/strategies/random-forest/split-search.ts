/**
 * Histograms of a node's rows over one feature's bins, and the best split they allow: Gini for classes,
 * squared error for regression, as scikit-learn's criteria. Each loop is its own small function so that
 * it is compiled to machine code after a few calls, within a worker's first tree.
 */
import type { NodeRows } from "./node-rows.ts";

/** The best split found so far at a node; `score` starts just above the unsplit node's. */
export interface SplitChoice {
  score: number;
  feature: number;
  /** Rows with bin ≤ `bin` go left; the threshold goes midway to `nextBin`, the next bin holding rows. */
  bin: number;
  nextBin: number;
}

/** `histogram[b * classes + k]`: the weight of class k among the node's rows in bin b of `column`. */
export function fillClassHistogram(
  histogram: Float64Array,
  rows: NodeRows,
  bins: Uint8Array,
  column: number,
  start: number,
  end: number,
  binCount: number,
  classes: number,
): void {
  const { index, label, weight } = rows;
  histogram.fill(0, 0, binCount * classes);
  for (let p = start; p < end; p++) histogram[bins[column + index[p]!]! * classes + label[p]!]! += weight[p]!;
}

/**
 * fillClassHistogram for two features in one pass over the rows: their positions, weights and classes are read once.
 */
export function fillClassHistogramPair(
  first: Float64Array,
  second: Float64Array,
  rows: NodeRows,
  bins: Uint8Array,
  firstColumn: number,
  secondColumn: number,
  start: number,
  end: number,
  firstBins: number,
  secondBins: number,
  classes: number,
): void {
  const { index, label, weight } = rows;
  first.fill(0, 0, firstBins * classes);
  second.fill(0, 0, secondBins * classes);
  for (let p = start; p < end; p++) {
    const row = index[p]!;
    const k = label[p]!;
    const w = weight[p]!;
    first[bins[firstColumn + row]! * classes + k]! += w;
    second[bins[secondColumn + row]! * classes + k]! += w;
  }
}

/** `histogram[2b]`, `histogram[2b + 1]`: the weighted sum of targets and the weight in bin b. */
export function fillTargetHistogram(
  histogram: Float64Array,
  rows: NodeRows,
  bins: Uint8Array,
  column: number,
  start: number,
  end: number,
  binCount: number,
): void {
  const { index, target, weight } = rows;
  histogram.fill(0, 0, 2 * binCount);
  for (let p = start; p < end; p++) {
    const b = 2 * bins[column + index[p]!]!;
    const w = weight[p]!;
    histogram[b]! += w * target[p]!;
    histogram[b + 1]! += w;
  }
}

/** fillTargetHistogram for two features in one pass over the rows. */
export function fillTargetHistogramPair(
  first: Float64Array,
  second: Float64Array,
  rows: NodeRows,
  bins: Uint8Array,
  firstColumn: number,
  secondColumn: number,
  start: number,
  end: number,
  firstBins: number,
  secondBins: number,
): void {
  const { index, target, weight } = rows;
  first.fill(0, 0, 2 * firstBins);
  second.fill(0, 0, 2 * secondBins);
  for (let p = start; p < end; p++) {
    const row = index[p]!;
    const w = weight[p]!;
    const wt = w * target[p]!;
    const a = 2 * bins[firstColumn + row]!;
    const b = 2 * bins[secondColumn + row]!;
    first[a]! += wt;
    first[a + 1]! += w;
    second[b]! += wt;
    second[b + 1]! += w;
  }
}

/**
 * Scans a class histogram for a better split than `best`. `totals` holds the node's class weights from
 * index 3 (see addTotals); `parentScore` is Σ totals² / weight. Left and right Σ counts² are kept up to
 * date bin by bin, so a bin costs one step per class that has rows in it.
 */
export function scanClassSplit(
  histogram: Float64Array,
  binCount: number,
  classes: number,
  totals: Float64Array,
  parentScore: number,
  minLeaf: number,
  leftCounts: Float64Array,
  feature: number,
  best: SplitChoice,
): void {
  const nodeWeight = totals[0]!;
  leftCounts.fill(0);
  let leftWeight = 0;
  let leftSquares = 0;
  let rightSquares = parentScore * nodeWeight;
  for (let b = 0; b < binCount - 1; b++) {
    let hw = 0;
    for (let k = 0; k < classes; k++) {
      const h = histogram[b * classes + k]!;
      if (h === 0) continue;
      hw += h;
      const l = leftCounts[k]!;
      const r = totals[3 + k]! - l;
      leftSquares += 2 * l * h + h * h;
      rightSquares += -2 * r * h + h * h;
      leftCounts[k] = l + h;
    }
    if (hw === 0) continue;
    leftWeight += hw;
    const rightWeight = nodeWeight - leftWeight;
    if (leftWeight < minLeaf) continue;
    if (rightWeight < minLeaf) break;
    const score = leftSquares / leftWeight + rightSquares / rightWeight;
    if (score > best.score) {
      best.score = score;
      best.feature = feature;
      best.bin = b;
      best.nextBin = nextNonEmpty(histogram, classes, 0, b, binCount);
    }
  }
}

/** As scanClassSplit, on a target histogram: the score is Σ² / weight on each side. */
export function scanTargetSplit(
  histogram: Float64Array,
  binCount: number,
  totals: Float64Array,
  minLeaf: number,
  feature: number,
  best: SplitChoice,
): void {
  const nodeWeight = totals[0]!;
  const nodeSum = totals[1]!;
  let leftWeight = 0;
  let leftSum = 0;
  for (let b = 0; b < binCount - 1; b++) {
    const hw = histogram[2 * b + 1]!;
    if (hw === 0) continue;
    leftWeight += hw;
    leftSum += histogram[2 * b]!;
    const rightWeight = nodeWeight - leftWeight;
    if (leftWeight < minLeaf) continue;
    if (rightWeight < minLeaf) break;
    const rightSum = nodeSum - leftSum;
    const score = (leftSum * leftSum) / leftWeight + (rightSum * rightSum) / rightWeight;
    if (score > best.score) {
      best.score = score;
      best.feature = feature;
      best.bin = b;
      best.nextBin = nextNonEmpty(histogram, 2, 1, b, binCount);
    }
  }
}

/** The first bin after `b` that holds rows (or the last bin); bin i's weights are `histogram[i * stride + from …]`. */
function nextNonEmpty(histogram: Float64Array, stride: number, from: number, b: number, binCount: number): number {
  let next = b + 1;
  for (; next < binCount - 1; next++) {
    for (let k = from; k < stride; k++) if (histogram[next * stride + k] !== 0) return next;
  }
  return next;
}

/** `histogram -= part` over the first `length` entries: a parent's histogram becomes its other child's. */
export function subtractHistogram(histogram: Float64Array, part: Float64Array, length: number): void {
  for (let i = 0; i < length; i++) histogram[i]! -= part[i]!;
}
