import type { Forest } from "../../strategies/random-forest/forest.ts";
import type { Tree } from "../../strategies/random-forest/tree.ts";

/** One tree as dump_forest.py writes it: scikit-learn's `tree_` arrays, values made proportions for classes. */
export interface TreeDump {
  children_left: number[];
  children_right: number[];
  /** Negative at a leaf. */
  feature: number[];
  threshold: number[];
  /** Row-major, nodes × outputs (classes, or 1). */
  value: number[];
  /** scikit-learn 1.3+: per node, 1 when a missing value (NaN) goes left. */
  missing_go_to_left?: number[];
}

export interface ForestDump {
  estimator: string;
  sklearn: string;
  task: "classification" | "regression";
  n_features: number;
  classes?: string[];
  feature_names?: string[];
  trees: TreeDump[];
}

/** The forest as edgetrain's exporter takes it; throws on a dump whose arrays do not fit together. */
export function forestOfDump(dump: ForestDump): Forest {
  const outputs = dump.task === "classification" ? (dump.classes?.length ?? 0) : 1;
  if (outputs < 1) throw new Error("the dump names no classes");
  if (!dump.trees.length) throw new Error("the forest has no trees");
  const trees = dump.trees.map((tree, index): Tree => {
    const nodes = tree.feature.length;
    const lengths = [tree.children_left, tree.children_right, tree.threshold].map((array) => array.length);
    if (lengths.some((length) => length !== nodes) || tree.value.length !== nodes * outputs)
      throw new Error(`tree ${index}: its arrays do not have one entry per node`);
    const feature = Int32Array.from(tree.feature);
    if (feature.some((f) => f >= dump.n_features))
      throw new Error(`tree ${index} splits on a feature past ${dump.n_features}`);
    return {
      feature,
      threshold: Float32Array.from(tree.threshold, float32AtMost),
      left: Int32Array.from(tree.children_left),
      right: Int32Array.from(tree.children_right),
      value: Float32Array.from(tree.value),
      outputs,
      ...(tree.missing_go_to_left ? { missingLeft: Uint8Array.from(tree.missing_go_to_left) } : {}),
    };
  });
  return { task: dump.task, trees, features: dump.n_features, outputs };
}

const bits = new Float32Array(1);
const asInt = new Int32Array(bits.buffer);

/**
 * The largest float32 not above `threshold`. scikit-learn compares float32 inputs with float64 thresholds;
 * the ONNX TreeEnsemble holds float32 ones. Rounding down keeps `x <= threshold` true for exactly the same
 * float32 x, where rounding to nearest could move a threshold above it and send x the other way.
 */
export function float32AtMost(threshold: number): number {
  const nearest = Math.fround(threshold);
  if (nearest <= threshold || !Number.isFinite(threshold)) return nearest;
  bits[0] = nearest;
  if (nearest === 0) return -1.401298464324817e-45;
  asInt[0]! += nearest > 0 ? -1 : 1;
  return bits[0]!;
}
