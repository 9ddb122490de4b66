import { seededRandom } from "../shared/random.ts";
import { midpointThreshold } from "./binning.ts";

/** One decision tree as flat arrays; node 0 is the root, `feature[i] < 0` marks a leaf. */
export interface Tree {
  feature: Int32Array;
  threshold: Float32Array;
  left: Int32Array;
  right: Int32Array;
  /** Per node, `outputs` values: class proportions, or the mean for regression. */
  value: Float32Array;
  outputs: number;
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
  weight: Float64Array;
  index: Uint32Array;
  /** Node arrays, grown by doubling; a tree's result is copied out of them. */
  feature: Int32Array;
  threshold: Float32Array;
  left: Int32Array;
  right: Int32Array;
  value: Float32Array;
  /** Nodes still to split, four numbers each: node, first row, end row, depth. */
  stack: Int32Array;
}

export function treeScratch(rows: number): TreeScratch {
  const nodes = 1024;
  return {
    weight: new Float64Array(rows),
    index: new Uint32Array(rows),
    feature: new Int32Array(nodes),
    threshold: new Float32Array(nodes),
    left: new Int32Array(nodes),
    right: new Int32Array(nodes),
    value: new Float32Array(nodes),
    stack: new Int32Array(4 * 64),
  };
}

/** `array` with room for `length` entries, its first `keep` entries kept. */
function withRoom<T extends Int32Array | Float32Array>(array: T, length: number, keep: number): T {
  if (array.length >= length) return array;
  const grown = new (array.constructor as new (length: number) => T)(Math.max(length, 2 * array.length));
  grown.set(array.subarray(0, keep));
  return grown;
}

/**
 * Grows one tree on histograms of binned features: for each node and each candidate feature, one pass over
 * the node's rows fills a histogram, and one pass over the bins finds the best split (Gini for classes,
 * squared error for regression), as scikit-learn's criteria do.
 */
export function growTree(data: BinnedData, options: TreeOptions, seed: number, scratch = treeScratch(data.rows)): Tree {
  const random = seededRandom(seed);
  const { rows, features, bins, edges } = data;
  const classification = data.classes !== undefined;
  const outputs = classification ? data.classCount : 1;

  const { weight, index } = scratch;
  if (options.bootstrap) {
    weight.fill(0);
    for (let i = 0; i < rows; i++) weight[Math.floor(random() * rows)]! += 1;
  } else weight.fill(1);
  // The rows this tree uses are index[0, used).
  let used = 0;
  for (let i = 0; i < rows; i++) if (weight[i]! > 0) index[used++] = i;

  let nodes = 0;
  const maxBins = Math.max(...edges.map((e) => e.length + 1));
  const histogram = new Float64Array(maxBins * (classification ? outputs : 2));
  const histogramWeight = new Float64Array(maxBins);
  const leftCounts = new Float64Array(outputs);
  const totals = new Float64Array(outputs);
  const order = Int32Array.from({ length: features }, (_, j) => j);

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
  const push = (node: number, start: number, end: number, depth: number) => {
    const stack = (scratch.stack = withRoom(scratch.stack, 4 * (pending + 1), 4 * pending));
    const at = 4 * pending++;
    stack[at] = node;
    stack[at + 1] = start;
    stack[at + 2] = end;
    stack[at + 3] = depth;
  };
  push(newNode(), 0, used, 0);

  while (pending > 0) {
    const at = 4 * --pending;
    const { stack, value } = scratch;
    const node = stack[at]!;
    const start = stack[at + 1]!;
    const end = stack[at + 2]!;
    const depth = stack[at + 3]!;
    // Node totals: class weights, or sum of targets.
    totals.fill(0);
    let nodeWeight = 0;
    let nodeSum = 0;
    let nodeSumSquares = 0;
    for (let p = start; p < end; p++) {
      const row = index[p]!;
      const w = weight[row]!;
      nodeWeight += w;
      if (classification) totals[data.classes![row]!]! += w;
      else {
        const t = data.target![row]!;
        nodeSum += w * t;
        nodeSumSquares += w * t * t;
      }
    }
    if (classification) for (let k = 0; k < outputs; k++) value[node * outputs + k] = totals[k]! / nodeWeight;
    else value[node] = nodeSum / nodeWeight;

    let pure = false;
    if (classification) for (let k = 0; k < outputs; k++) pure ||= totals[k] === nodeWeight;
    else pure = nodeSumSquares - (nodeSum * nodeSum) / nodeWeight <= EPSILON * nodeWeight;
    if (depth >= options.maxDepth || nodeWeight < options.minSamplesSplit || nodeWeight < 2 * options.minSamplesLeaf || pure) continue;

    let parentScore = 0;
    if (classification) for (let k = 0; k < outputs; k++) parentScore += totals[k]! * totals[k]!;
    parentScore = classification ? parentScore / nodeWeight : (nodeSum * nodeSum) / nodeWeight;

    let bestScore = parentScore + EPSILON * Math.max(1, Math.abs(parentScore));
    let bestFeature = -1;
    let bestBin = -1;
    let bestNextBin = -1;
    // Partial Fisher–Yates: the first maxFeatures entries of `order` are this node's candidates.
    for (let c = 0; c < options.maxFeatures; c++) {
      const pick = c + Math.floor(random() * (features - c));
      const swap = order[c]!;
      order[c] = order[pick]!;
      order[pick] = swap;
      const j = order[c]!;
      const binCount = edges[j]!.length + 1;
      if (binCount < 2) continue;
      const column = j * rows;
      if (classification) {
        histogram.fill(0, 0, binCount * outputs);
        histogramWeight.fill(0, 0, binCount);
        for (let p = start; p < end; p++) {
          const row = index[p]!;
          const b = bins[column + row]!;
          const w = weight[row]!;
          histogram[b * outputs + data.classes![row]!]! += w;
          histogramWeight[b]! += w;
        }
        leftCounts.fill(0);
        let leftWeight = 0;
        let leftSquares = 0;
        let rightSquares = parentScore * nodeWeight;
        for (let b = 0; b < binCount - 1; b++) {
          const hw = histogramWeight[b]!;
          if (hw === 0) continue;
          for (let k = 0; k < outputs; k++) {
            const h = histogram[b * outputs + k]!;
            if (h === 0) continue;
            const l = leftCounts[k]!;
            const r = totals[k]! - l;
            leftSquares += 2 * l * h + h * h;
            rightSquares += -2 * r * h + h * h;
            leftCounts[k] = l + h;
          }
          leftWeight += hw;
          const rightWeight = nodeWeight - leftWeight;
          if (leftWeight < options.minSamplesLeaf) continue;
          if (rightWeight < options.minSamplesLeaf) break;
          const score = leftSquares / leftWeight + rightSquares / rightWeight;
          if (score > bestScore) {
            bestScore = score;
            bestFeature = j;
            bestBin = b;
            bestNextBin = nextNonEmpty(histogramWeight, b, binCount);
          }
        }
      } else {
        histogram.fill(0, 0, binCount);
        histogramWeight.fill(0, 0, binCount);
        for (let p = start; p < end; p++) {
          const row = index[p]!;
          const b = bins[column + row]!;
          const w = weight[row]!;
          histogram[b]! += w * data.target![row]!;
          histogramWeight[b]! += w;
        }
        let leftWeight = 0;
        let leftSum = 0;
        for (let b = 0; b < binCount - 1; b++) {
          const hw = histogramWeight[b]!;
          if (hw === 0) continue;
          leftWeight += hw;
          leftSum += histogram[b]!;
          const rightWeight = nodeWeight - leftWeight;
          if (leftWeight < options.minSamplesLeaf) continue;
          if (rightWeight < options.minSamplesLeaf) break;
          const rightSum = nodeSum - leftSum;
          const score = (leftSum * leftSum) / leftWeight + (rightSum * rightSum) / rightWeight;
          if (score > bestScore) {
            bestScore = score;
            bestFeature = j;
            bestBin = b;
            bestNextBin = nextNonEmpty(histogramWeight, b, binCount);
          }
        }
      }
    }
    if (bestFeature < 0) continue;

    // Partition the node's rows in place: bin ≤ bestBin to the left.
    const column = bestFeature * rows;
    let i = start;
    let k = end - 1;
    while (i <= k) {
      if (bins[column + index[i]!]! <= bestBin) i++;
      else {
        const swap = index[i]!;
        index[i] = index[k]!;
        index[k] = swap;
        k--;
      }
    }
    const leftNode = newNode();
    const rightNode = newNode();
    scratch.feature[node] = bestFeature;
    scratch.threshold[node] = midpointThreshold(data.binMax[bestFeature]![bestBin]!, data.binMin[bestFeature]![bestNextBin]!);
    scratch.left[node] = leftNode;
    scratch.right[node] = rightNode;
    push(rightNode, i, end, depth + 1);
    push(leftNode, start, i, depth + 1);
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

/** The first bin after `b` that holds rows (or the last bin): a split's threshold goes midway to it. */
function nextNonEmpty(histogramWeight: Float64Array, b: number, binCount: number): number {
  let next = b + 1;
  while (next < binCount - 1 && histogramWeight[next] === 0) next++;
  return next;
}

/** The leaf a row ends in; `x` holds float32 features, compared exactly as ONNX Runtime does. */
export function leafOf(tree: Tree, x: Float32Array, offset: number): number {
  let node = 0;
  while (tree.feature[node]! >= 0) node = x[offset + tree.feature[node]!]! <= tree.threshold[node]! ? tree.left[node]! : tree.right[node]!;
  return node;
}
