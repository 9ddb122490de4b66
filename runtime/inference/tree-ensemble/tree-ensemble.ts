/** How a branch node compares its feature with its threshold; LEAF ends the walk. */
export const BRANCH_MODES = ["BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ", "LEAF"];
export const LEAF = BRANCH_MODES.indexOf("LEAF");
export const LEQ = BRANCH_MODES.indexOf("BRANCH_LEQ");

/**
 * An `ai.onnx.ml` tree ensemble in flat typed arrays, one entry per node: what serving walks instead of an
 * ONNX Runtime session, in about the size of the model file rather than 9 times it.
 */
export interface TreeEnsemble {
  /** Each tree's root node, in the order of the trees' ids: the order ONNX Runtime sums them in. */
  roots: Int32Array;
  feature: Int32Array;
  threshold: Float32Array;
  /** An index into BRANCH_MODES. */
  mode: Uint8Array;
  trueNode: Int32Array;
  falseNode: Int32Array;
  /** 1 where a missing value (NaN) takes the true branch. */
  missingTrue: Uint8Array;
  /** A leaf's weights are `weightTarget`/`weightValue` from `leafStart[node]` to `leafStart[node + 1]`. */
  leafStart: Int32Array;
  weightTarget: Int32Array;
  weightValue: Float32Array;
  /** Classes of a classifier, targets of a regressor. */
  targets: number;
  /** AVERAGE divides each sum by the count of trees. */
  average: boolean;
  /** The features a row must have at least: one more than the highest feature a branch reads. */
  minWidth: number;
  /** Every branch is BRANCH_LEQ and sends a missing value the false way: the walk need not read modes. */
  plainLeq: boolean;
}

/**
 * The ensemble's resident memory, estimated: its arrays, plus about what the JavaScript heap keeps of reading
 * its model file and a fixed part (measured in docs/performance.md, Session memory).
 */
export function ensembleBytes(ensemble: TreeEnsemble, fileBytes: number): number {
  const arrays = Object.values(ensemble).filter((value) => ArrayBuffer.isView(value)) as ArrayBufferView[];
  return arrays.reduce((sum, array) => sum + array.byteLength, fileBytes + 131_072);
}

/**
 * The scores of `rows` rows of `x` (`width` features each), `targets` per row, summed in float32 tree by
 * tree as ONNX Runtime's CPU kernel sums them.
 */
export function scoreRows(ensemble: TreeEnsemble, x: Float32Array, rows: number, width: number): Float32Array {
  const { roots, feature, threshold, mode, trueNode, falseNode, missingTrue, leafStart } = ensemble;
  const { weightTarget, weightValue, targets, plainLeq } = ensemble;
  // A Float32Array element rounds each sum to float32, as the kernel's float accumulator does.
  const out = new Float32Array(rows * targets);
  for (let row = 0; row < rows; row++) {
    const offset = row * width;
    const base = row * targets;
    for (let t = 0; t < roots.length; t++) {
      let node = roots[t]!;
      if (plainLeq) {
        while (mode[node] !== LEAF)
          node = x[offset + feature[node]!]! <= threshold[node]! ? trueNode[node]! : falseNode[node]!;
      } else {
        for (let m = mode[node]!; m !== LEAF; m = mode[node]!) {
          const value = x[offset + feature[node]!]!;
          node = branchesTrue(m, value, threshold[node]!, missingTrue[node]!) ? trueNode[node]! : falseNode[node]!;
        }
      }
      for (let w = leafStart[node]!; w < leafStart[node + 1]!; w++) out[base + weightTarget[w]!]! += weightValue[w]!;
    }
    if (ensemble.average) for (let k = base; k < base + targets; k++) out[k] = out[k]! / roots.length;
  }
  return out;
}

function branchesTrue(mode: number, value: number, threshold: number, missingTrue: number): boolean {
  if (missingTrue && Number.isNaN(value)) return true;
  // The cases in BRANCH_MODES' order: numbers, so that the walk compares no strings.
  switch (mode) {
    case 0:
      return value <= threshold;
    case 1:
      return value < threshold;
    case 2:
      return value >= threshold;
    case 3:
      return value > threshold;
    case 4:
      return value === threshold;
    default:
      return value !== threshold;
  }
}
