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
  /** Bootstrap draws per row. */
  draws: Int32Array;
  /**
   * The tree's rows by position: each node holds a range of positions, its rows in ascending order, so the
   * reads of a column go forwards through memory. A row's weight and class or target sit at its position
   * and move with it, read in order rather than gathered.
   */
  index: Uint32Array;
  weight: Int32Array;
  label: Uint8Array;
  target: Float32Array;
  /** Where a split's right-hand rows wait while the left-hand ones close up. */
  spareIndex: Uint32Array;
  spareWeight: Int32Array;
  spareLabel: Uint8Array;
  spareTarget: Float32Array;
  /** Node arrays, grown by doubling; a tree's result is copied out of them. */
  feature: Int32Array;
  threshold: Float32Array;
  left: Int32Array;
  right: Int32Array;
  value: Float32Array;
  /** Nodes still to split, four numbers each: node, first position, end position, depth. */
  stack: Int32Array;
  /** Per node still to split, its totals: weight, sum and sum of squares of targets, class weights. */
  totals: Float64Array;
}

export function treeScratch(rows: number): TreeScratch {
  const nodes = 1024;
  return {
    draws: new Int32Array(rows),
    index: new Uint32Array(rows),
    weight: new Int32Array(rows),
    label: new Uint8Array(rows),
    target: new Float32Array(rows),
    spareIndex: new Uint32Array(rows),
    spareWeight: new Int32Array(rows),
    spareLabel: new Uint8Array(rows),
    spareTarget: new Float32Array(rows),
    feature: new Int32Array(nodes),
    threshold: new Float32Array(nodes),
    left: new Int32Array(nodes),
    right: new Int32Array(nodes),
    value: new Float32Array(nodes),
    stack: new Int32Array(4 * 64),
    totals: new Float64Array(64 * 8),
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
 * the node's rows fills a histogram, and one pass over the bins finds the best split (Gini for classes,
 * squared error for regression), as scikit-learn's criteria do.
 */
export function growTree(data: BinnedData, options: TreeOptions, seed: number, scratch = treeScratch(data.rows)): Tree {
  const random = seededRandom(seed);
  const { rows, features, bins, edges } = data;
  const classes = data.classes;
  const targets = data.target!;
  const classification = classes !== undefined;
  const outputs = classification ? data.classCount : 1;
  const { draws, index, weight, label, target } = scratch;

  if (options.bootstrap) {
    draws.fill(0);
    for (let i = 0; i < rows; i++) draws[Math.floor(random() * rows)]! += 1;
  } else draws.fill(1);
  // The rows this tree uses are at positions [0, used), in ascending order.
  let used = 0;
  for (let i = 0; i < rows; i++) {
    const w = draws[i]!;
    if (w === 0) continue;
    index[used] = i;
    weight[used] = w;
    if (classification) label[used] = classes[i]!;
    else target[used] = targets[i]!;
    used++;
  }

  let nodes = 0;
  const maxBins = Math.max(...edges.map((e) => e.length + 1));
  const histogram = new Float64Array(maxBins * (classification ? outputs : 2));
  const leftCounts = new Float64Array(outputs);
  // A node's totals: weight, sum and sum of squares of targets (regression), then class weights.
  const stride = 3 + outputs;
  const leftTotals = new Float64Array(stride);
  const rightTotals = new Float64Array(stride);
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
  const push = (node: number, start: number, end: number, depth: number, totals: Float64Array) => {
    const stack = (scratch.stack = withRoom(scratch.stack, 4 * (pending + 1), 4 * pending));
    scratch.totals = withRoom(scratch.totals, stride * (pending + 1), stride * pending);
    scratch.totals.set(totals, stride * pending);
    const at = 4 * pending++;
    stack[at] = node;
    stack[at + 1] = start;
    stack[at + 2] = end;
    stack[at + 3] = depth;
  };
  leftTotals.fill(0);
  for (let p = 0; p < used; p++) {
    const w = weight[p]!;
    leftTotals[0]! += w;
    if (classification) leftTotals[3 + label[p]!]! += w;
    else {
      const t = target[p]!;
      leftTotals[1]! += w * t;
      leftTotals[2]! += w * t * t;
    }
  }
  push(newNode(), 0, used, 0, leftTotals);

  while (pending > 0) {
    const at = 4 * --pending;
    const { stack, value, totals: pendingTotals } = scratch;
    const node = stack[at]!;
    const start = stack[at + 1]!;
    const end = stack[at + 2]!;
    const depth = stack[at + 3]!;
    const totals = pendingTotals.subarray(stride * pending + 3, stride * pending + stride);
    const nodeWeight = pendingTotals[stride * pending]!;
    const nodeSum = pendingTotals[stride * pending + 1]!;
    const nodeSumSquares = pendingTotals[stride * pending + 2]!;
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
        for (let p = start; p < end; p++) histogram[bins[column + index[p]!]! * outputs + label[p]!]! += weight[p]!;
        leftCounts.fill(0);
        let leftWeight = 0;
        let leftSquares = 0;
        let rightSquares = parentScore * nodeWeight;
        for (let b = 0; b < binCount - 1; b++) {
          let hw = 0;
          for (let k = 0; k < outputs; k++) {
            const h = histogram[b * outputs + k]!;
            if (h === 0) continue;
            hw += h;
            const l = leftCounts[k]!;
            const r = totals[k]! - l;
            leftSquares += 2 * l * h + h * h;
            rightSquares += -2 * r * h + h * h;
            leftCounts[k] = l + h;
          }
          if (hw === 0) continue;
          leftWeight += hw;
          const rightWeight = nodeWeight - leftWeight;
          if (leftWeight < options.minSamplesLeaf) continue;
          if (rightWeight < options.minSamplesLeaf) break;
          const score = leftSquares / leftWeight + rightSquares / rightWeight;
          if (score > bestScore) {
            bestScore = score;
            bestFeature = j;
            bestBin = b;
            bestNextBin = nextNonEmpty(histogram, outputs, b, binCount);
          }
        }
      } else {
        histogram.fill(0, 0, 2 * binCount);
        for (let p = start; p < end; p++) {
          const b = 2 * bins[column + index[p]!]!;
          const w = weight[p]!;
          histogram[b]! += w * target[p]!;
          histogram[b + 1]! += w;
        }
        let leftWeight = 0;
        let leftSum = 0;
        for (let b = 0; b < binCount - 1; b++) {
          const hw = histogram[2 * b + 1]!;
          if (hw === 0) continue;
          leftWeight += hw;
          leftSum += histogram[2 * b]!;
          const rightWeight = nodeWeight - leftWeight;
          if (leftWeight < options.minSamplesLeaf) continue;
          if (rightWeight < options.minSamplesLeaf) break;
          const rightSum = nodeSum - leftSum;
          const score = (leftSum * leftSum) / leftWeight + (rightSum * rightSum) / rightWeight;
          if (score > bestScore) {
            bestScore = score;
            bestFeature = j;
            bestBin = b;
            bestNextBin = nextNonEmpty(histogram, 2, b, binCount, 1);
          }
        }
      }
    }
    if (bestFeature < 0) continue;

    const split = partition(scratch, bins, bestFeature * rows, bestBin, start, end, classification, outputs, totals, leftTotals, rightTotals);
    const leftNode = newNode();
    const rightNode = newNode();
    scratch.feature[node] = bestFeature;
    scratch.threshold[node] = midpointThreshold(data.binMax[bestFeature]![bestBin]!, data.binMin[bestFeature]![bestNextBin]!);
    scratch.left[node] = leftNode;
    scratch.right[node] = rightNode;
    push(rightNode, split, end, depth + 1, rightTotals);
    push(leftNode, start, split, depth + 1, leftTotals);
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
 * Splits a node's positions [start, end) in place and in order: rows with bin ≤ `bin` in `column` first.
 * Fills each side's totals (laid out as in the stack) and returns where the right-hand rows begin.
 */
function partition(scratch: TreeScratch, bins: Uint8Array, column: number, bin: number, start: number, end: number, classification: boolean, outputs: number, totals: Float64Array, leftTotals: Float64Array, rightTotals: Float64Array): number {
  const { index, weight, label, target, spareIndex, spareWeight, spareLabel, spareTarget } = scratch;
  leftTotals.fill(0);
  rightTotals.fill(0);
  let left = start;
  let right = 0;
  if (classification) {
    let leftWeight = 0;
    for (let p = start; p < end; p++) {
      const row = index[p]!;
      const w = weight[p]!;
      const k = label[p]!;
      if (bins[column + row]! <= bin) {
        index[left] = row;
        weight[left] = w;
        label[left] = k;
        left++;
        leftWeight += w;
        leftTotals[3 + k]! += w;
      } else {
        spareIndex[right] = row;
        spareWeight[right] = w;
        spareLabel[right] = k;
        right++;
      }
    }
    // Class weights are whole numbers: the right side's are exact differences.
    let nodeWeight = 0;
    for (let k = 0; k < outputs; k++) {
      nodeWeight += totals[k]!;
      rightTotals[3 + k] = totals[k]! - leftTotals[3 + k]!;
    }
    leftTotals[0] = leftWeight;
    rightTotals[0] = nodeWeight - leftWeight;
    label.set(spareLabel.subarray(0, right), left);
  } else {
    for (let p = start; p < end; p++) {
      const row = index[p]!;
      const w = weight[p]!;
      const t = target[p]!;
      const side = bins[column + row]! <= bin ? leftTotals : rightTotals;
      side[0]! += w;
      side[1]! += w * t;
      side[2]! += w * t * t;
      if (side === leftTotals) {
        index[left] = row;
        weight[left] = w;
        target[left] = t;
        left++;
      } else {
        spareIndex[right] = row;
        spareWeight[right] = w;
        spareTarget[right] = t;
        right++;
      }
    }
    target.set(spareTarget.subarray(0, right), left);
  }
  index.set(spareIndex.subarray(0, right), left);
  weight.set(spareWeight.subarray(0, right), left);
  return left;
}

/**
 * The first bin after `b` that holds rows (or the last bin): a split's threshold goes midway to it. Bin
 * i's weights are at `histogram[i * stride + from …]`, up to the next bin's.
 */
function nextNonEmpty(histogram: Float64Array, stride: number, b: number, binCount: number, from = 0): number {
  let next = b + 1;
  for (; next < binCount - 1; next++) {
    for (let k = from; k < stride; k++) if (histogram[next * stride + k] !== 0) return next;
  }
  return next;
}

/** The leaf a row ends in; `x` holds float32 features, compared exactly as ONNX Runtime does. */
export function leafOf(tree: Tree, x: Float32Array, offset: number): number {
  let node = 0;
  while (tree.feature[node]! >= 0) node = x[offset + tree.feature[node]!]! <= tree.threshold[node]! ? tree.left[node]! : tree.right[node]!;
  return node;
}
