import { seededRandom } from "../shared/random.ts";
import { midpointThreshold } from "./binning.ts";
import { addTotals, drawRows, type NodeRows, nodeRows, partitionClasses, partitionTargets } from "./node-rows.ts";
import {
  fillClassHistogram,
  fillClassHistogramPair,
  fillTargetHistogram,
  fillTargetHistogramPair,
  type SplitChoice,
  scanClassSplit,
  scanTargetSplit,
  subtractHistogram,
} from "./split-search.ts";

/** One decision tree as flat arrays; node 0 is the root, `feature[i] < 0` marks a leaf. */
export interface Tree {
  feature: Int32Array;
  threshold: Float32Array;
  left: Int32Array;
  right: Int32Array;
  /** Per node, `outputs` values: class proportions, or the mean for regression. */
  value: Float32Array;
  outputs: number;
  /** Per node, 1 when a missing value (NaN) goes left; absent: it goes right (trees imported from scikit-learn). */
  missingLeft?: Uint8Array;
}

export interface TreeOptions {
  maxDepth: number;
  minSamplesSplit: number;
  minSamplesLeaf: number;
  /** Features tried at each split. */
  maxFeatures: number;
  bootstrap: boolean;
}

/** The training data as the tree builder sees it: binned columns shared between workers. */
export interface BinnedData {
  bins: Uint8Array;
  rows: number;
  features: number;
  /** Per feature, the bin edges (see binning.ts). */
  edges: Float32Array[];
  /** Per feature and bin, the smallest and largest training value (thresholds go midway between bins). */
  binMin: Float32Array[];
  binMax: Float32Array[];
  /** Class index per row (classification) … */
  classes?: Uint8Array;
  classCount: number;
  /** … or the target per row (regression). */
  target?: Float32Array;
}

const EPSILON = 1e-9;

/**
 * A tree's working memory, reused from one tree to the next: per-row buffers, the nodes as they are grown
 * and the stack of nodes still to split. Allocated per tree (120k rows' 1.4 MB, then about 1 MB of node
 * arrays, stack entries and closures for a depth-10 tree), it made each training thread collect garbage
 * several times a second, work that is not in the idle class.
 */
export interface TreeScratch {
  rows: NodeRows;
  /** Node arrays, grown by doubling; a tree's result is copied out of them. */
  feature: Int32Array;
  threshold: Float32Array;
  left: Int32Array;
  right: Int32Array;
  value: Float32Array;
  /** Nodes still to split, five numbers each: node, first position, end position, depth, histograms. */
  stack: Int32Array;
  /** Per node still to split, its totals (see addTotals). */
  totals: Float64Array;
  /** Histograms of every feature, one set per node that holds them; the free ones are listed in `free`. */
  histograms: HistogramSet[];
  free: number[];
}

/** All features' histograms in one buffer, and a view of each feature's. */
interface HistogramSet {
  all: Float64Array;
  byFeature: Float64Array[];
}

export function treeScratch(rows: number): TreeScratch {
  const nodes = 1024;
  return {
    rows: nodeRows(rows),
    feature: new Int32Array(nodes),
    threshold: new Float32Array(nodes),
    left: new Int32Array(nodes),
    right: new Int32Array(nodes),
    value: new Float32Array(nodes),
    stack: new Int32Array(5 * 64),
    totals: new Float64Array(64 * 8),
    histograms: [],
    free: [],
  };
}

/** `array` with room for `length` entries, its first `keep` entries kept. */
function withRoom<T extends Int32Array | Float32Array | Float64Array>(array: T, length: number, keep: number): T {
  if (array.length >= length) return array;
  const grown = new (array.constructor as new (length: number) => T)(Math.max(length, 2 * array.length));
  grown.set(array.subarray(0, keep));
  return grown;
}

/**
 * Grows one tree on histograms of binned features: for each node and each candidate feature, one pass over
 * the node's rows fills a histogram, and one pass over the bins finds the best split (split-search.ts).
 *
 * When a node tries at least half of the features (regression's default: all), it keeps a histogram of
 * every feature instead: after a split only the child with fewer rows is counted, and the other child's
 * histograms are the parent's minus those. Counting all features of the smaller child costs less than the
 * candidates of both.
 */
export function growTree(data: BinnedData, options: TreeOptions, seed: number, scratch = treeScratch(data.rows)): Tree {
  const random = seededRandom(seed);
  const { rows, features, bins, edges } = data;
  const classification = data.classes !== undefined;
  const outputs = classification ? data.classCount : 1;
  const used = drawRows(scratch.rows, rows, random, options.bootstrap, data.classes, data.target);

  let nodes = 0;
  const maxBins = Math.max(...edges.map((e) => e.length + 1));
  // Entries per bin: class weights, or the sum of targets and the weight.
  const binStride = classification ? outputs : 2;
  const featureStride = maxBins * binStride;
  const histogram = new Float64Array(featureStride);
  const secondHistogram = new Float64Array(featureStride);
  const candidates = new Int32Array(features);
  const allFeatures = 2 * options.maxFeatures >= features;
  const histogramSize = features * featureStride;
  if (allFeatures && scratch.histograms[0]?.all.length !== histogramSize) {
    scratch.histograms = [];
    scratch.free = [];
  }
  const takeHistograms = () => {
    const free = scratch.free.pop();
    if (free !== undefined) return free;
    const all = new Float64Array(histogramSize);
    scratch.histograms.push({
      all,
      byFeature: Array.from({ length: features }, (_, j) => all.subarray(j * featureStride, (j + 1) * featureStride)),
    });
    return scratch.histograms.length - 1;
  };
  const release = (id: number) => id >= 0 && scratch.free.push(id);
  const fillAll = (id: number, start: number, end: number) => {
    const { byFeature } = scratch.histograms[id]!;
    for (let j = 0; j < features; j++) {
      const binCount = edges[j]!.length + 1;
      if (classification)
        fillClassHistogram(byFeature[j]!, scratch.rows, bins, j * rows, start, end, binCount, outputs);
      else fillTargetHistogram(byFeature[j]!, scratch.rows, bins, j * rows, start, end, binCount);
    }
  };
  const leftCounts = new Float64Array(outputs);
  const stride = 3 + outputs;
  const totals = new Float64Array(stride);
  const leftTotals = new Float64Array(stride);
  const rightTotals = new Float64Array(stride);
  const best: SplitChoice = { score: 0, feature: -1, bin: -1, nextBin: -1 };
  const order = Int32Array.from({ length: features }, (_, j) => j);
  const isLeaf = (nodeTotals: Float64Array, depth: number) => {
    const nodeWeight = nodeTotals[0]!;
    if (depth >= options.maxDepth || nodeWeight < options.minSamplesSplit || nodeWeight < 2 * options.minSamplesLeaf)
      return true;
    if (!classification) return nodeTotals[2]! - (nodeTotals[1]! * nodeTotals[1]!) / nodeWeight <= EPSILON * nodeWeight;
    for (let k = 0; k < outputs; k++) if (nodeTotals[3 + k] === nodeWeight) return true;
    return false;
  };

  // Stored straight into float32 arrays: the same rounding as the number arrays converted at the end had.
  const newNode = () => {
    scratch.feature = withRoom(scratch.feature, nodes + 1, nodes);
    scratch.threshold = withRoom(scratch.threshold, nodes + 1, nodes);
    scratch.left = withRoom(scratch.left, nodes + 1, nodes);
    scratch.right = withRoom(scratch.right, nodes + 1, nodes);
    scratch.value = withRoom(scratch.value, (nodes + 1) * outputs, nodes * outputs);
    scratch.feature[nodes] = -1;
    scratch.threshold[nodes] = 0;
    scratch.left[nodes] = -1;
    scratch.right[nodes] = -1;
    scratch.value.fill(0, nodes * outputs, (nodes + 1) * outputs);
    return nodes++;
  };
  let pending = 0;
  const push = (
    node: number,
    start: number,
    end: number,
    depth: number,
    nodeTotals: Float64Array,
    histograms: number,
  ) => {
    const stack = (scratch.stack = withRoom(scratch.stack, 5 * (pending + 1), 5 * pending));
    scratch.totals = withRoom(scratch.totals, stride * (pending + 1), stride * pending);
    scratch.totals.set(nodeTotals, stride * pending);
    const at = 5 * pending++;
    stack[at] = node;
    stack[at + 1] = start;
    stack[at + 2] = end;
    stack[at + 3] = depth;
    stack[at + 4] = histograms;
  };
  addTotals(scratch.rows, 0, used, classification, totals);
  push(newNode(), 0, used, 0, totals, -1);

  while (pending > 0) {
    const at = 5 * --pending;
    const { stack, value } = scratch;
    const node = stack[at]!;
    const start = stack[at + 1]!;
    const end = stack[at + 2]!;
    const depth = stack[at + 3]!;
    let own = stack[at + 4]!;
    for (let i = 0; i < stride; i++) totals[i] = scratch.totals[stride * pending + i]!;
    const nodeWeight = totals[0]!;
    const nodeSum = totals[1]!;
    if (classification) for (let k = 0; k < outputs; k++) value[node * outputs + k] = totals[3 + k]! / nodeWeight;
    else value[node] = nodeSum / nodeWeight;
    if (isLeaf(totals, depth)) {
      release(own);
      continue;
    }
    if (allFeatures && own < 0) fillAll((own = takeHistograms()), start, end);

    let parentScore = 0;
    if (classification) for (let k = 0; k < outputs; k++) parentScore += totals[3 + k]! * totals[3 + k]!;
    parentScore = classification ? parentScore / nodeWeight : (nodeSum * nodeSum) / nodeWeight;

    best.score = parentScore + EPSILON * Math.max(1, Math.abs(parentScore));
    best.feature = -1;
    // Partial Fisher–Yates: the first maxFeatures entries of `order` are this node's candidates.
    let count = 0;
    for (let c = 0; c < options.maxFeatures; c++) {
      const pick = c + Math.floor(random() * (features - c));
      const swap = order[c]!;
      order[c] = order[pick]!;
      order[pick] = swap;
      if (edges[order[c]!]!.length > 0) candidates[count++] = order[c]!;
    }
    // Candidates in order, two histograms filled per pass over the rows unless every feature's is kept.
    for (let c = 0; c < count; c += allFeatures ? 1 : 2) {
      const j = candidates[c]!;
      const k = allFeatures || c + 1 === count ? -1 : candidates[c + 1]!;
      const jBins = edges[j]!.length + 1;
      const kBins = k < 0 ? 0 : edges[k]!.length + 1;
      if (classification) {
        if (allFeatures)
          scanClassSplit(
            scratch.histograms[own]!.byFeature[j]!,
            jBins,
            outputs,
            totals,
            parentScore,
            options.minSamplesLeaf,
            leftCounts,
            j,
            best,
          );
        else if (k < 0) fillClassHistogram(histogram, scratch.rows, bins, j * rows, start, end, jBins, outputs);
        else
          fillClassHistogramPair(
            histogram,
            secondHistogram,
            scratch.rows,
            bins,
            j * rows,
            k * rows,
            start,
            end,
            jBins,
            kBins,
            outputs,
          );
        if (allFeatures) continue;
        scanClassSplit(histogram, jBins, outputs, totals, parentScore, options.minSamplesLeaf, leftCounts, j, best);
        if (k >= 0)
          scanClassSplit(
            secondHistogram,
            kBins,
            outputs,
            totals,
            parentScore,
            options.minSamplesLeaf,
            leftCounts,
            k,
            best,
          );
      } else {
        if (allFeatures)
          scanTargetSplit(scratch.histograms[own]!.byFeature[j]!, jBins, totals, options.minSamplesLeaf, j, best);
        else if (k < 0) fillTargetHistogram(histogram, scratch.rows, bins, j * rows, start, end, jBins);
        else
          fillTargetHistogramPair(
            histogram,
            secondHistogram,
            scratch.rows,
            bins,
            j * rows,
            k * rows,
            start,
            end,
            jBins,
            kBins,
          );
        if (allFeatures) continue;
        scanTargetSplit(histogram, jBins, totals, options.minSamplesLeaf, j, best);
        if (k >= 0) scanTargetSplit(secondHistogram, kBins, totals, options.minSamplesLeaf, k, best);
      }
    }
    const { feature: bestFeature, bin: bestBin } = best;
    if (bestFeature < 0) {
      release(own);
      continue;
    }

    const column = bestFeature * rows;
    const split = classification
      ? partitionClasses(scratch.rows, bins, column, bestBin, start, end, outputs, totals, leftTotals, rightTotals)
      : partitionTargets(scratch.rows, bins, column, bestBin, start, end, leftTotals, rightTotals);
    let leftHistograms = -1;
    let rightHistograms = -1;
    if (allFeatures) {
      const leftSplits = !isLeaf(leftTotals, depth + 1);
      const rightSplits = !isLeaf(rightTotals, depth + 1);
      if (leftSplits || rightSplits) {
        const small = takeHistograms();
        const leftSmaller = split - start <= end - split;
        if (leftSmaller) fillAll(small, start, split);
        else fillAll(small, split, end);
        subtractHistogram(scratch.histograms[own]!.all, scratch.histograms[small]!.all, histogramSize);
        leftHistograms = leftSmaller ? small : own;
        rightHistograms = leftSmaller ? own : small;
        if (!leftSplits) {
          release(leftHistograms);
          leftHistograms = -1;
        }
        if (!rightSplits) {
          release(rightHistograms);
          rightHistograms = -1;
        }
      } else release(own);
    }
    // Made one after the other: findLeaves relies on right = left + 1.
    const leftNode = newNode();
    const rightNode = newNode();
    scratch.feature[node] = bestFeature;
    scratch.threshold[node] = midpointThreshold(
      data.binMax[bestFeature]![bestBin]!,
      data.binMin[bestFeature]![best.nextBin]!,
    );
    scratch.left[node] = leftNode;
    scratch.right[node] = rightNode;
    push(rightNode, split, end, depth + 1, rightTotals, rightHistograms);
    push(leftNode, start, split, depth + 1, leftTotals, leftHistograms);
  }
  return {
    feature: scratch.feature.slice(0, nodes),
    threshold: scratch.threshold.slice(0, nodes),
    left: scratch.left.slice(0, nodes),
    right: scratch.right.slice(0, nodes),
    value: scratch.value.slice(0, nodes * outputs),
    outputs,
  };
}

/**
 * The leaf each row ends in; `x` holds float32 features, compared exactly as ONNX Runtime does (x ≤
 * threshold goes left, NaN right). A node's right child is made just after its left one, so the step is
 * arithmetic, not a branch the processor mispredicts half the time.
 */
export function findLeaves(tree: Tree, x: Float32Array, features: number, rows: number, leaves: Int32Array): void {
  const { feature, threshold, left } = tree;
  for (let i = 0; i < rows; i++) {
    const offset = i * features;
    let node = 0;
    for (let f = feature[0]!; f >= 0; f = feature[node]!)
      node = left[node]! + 1 - +(x[offset + f]! <= threshold[node]!);
    leaves[i] = node;
  }
}
