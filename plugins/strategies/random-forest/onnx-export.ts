import { encodeModel, node, tensorValue } from "../shared/onnx-model.ts";
import type { Forest } from "./forest.ts";

/**
 * The forest as an `ai.onnx.ml` TreeEnsembleClassifier (outputs `label` int64 [N], the ArgMax of
 * `probabilities` float [N, classes], averaged over trees) or TreeEnsembleRegressor (output `variable` float [N, 1]).
 * Input `features`, float32 [N, F]. Thresholds are float32 data values compared with BRANCH_LEQ, exactly
 * as the trees were trained (see binning.ts).
 */
export function forestToOnnx(forest: Forest, metadata: Record<string, string>): Uint8Array {
  const nodesTree: number[] = [];
  const nodesId: number[] = [];
  const nodesFeature: number[] = [];
  const nodesValue: number[] = [];
  const nodesMode: string[] = [];
  const nodesTrue: number[] = [];
  const nodesFalse: number[] = [];
  const nodesMissingTrue: number[] = [];
  const leafTree: number[] = [];
  const leafNode: number[] = [];
  const leafTarget: number[] = [];
  const leafWeight: number[] = [];
  const scale = 1 / forest.trees.length;
  forest.trees.forEach((tree, t) => {
    for (let n = 0; n < tree.feature.length; n++) {
      const leaf = tree.feature[n]! < 0;
      nodesTree.push(t);
      nodesId.push(n);
      nodesFeature.push(leaf ? 0 : tree.feature[n]!);
      nodesValue.push(leaf ? 0 : tree.threshold[n]!);
      nodesMode.push(leaf ? "LEAF" : "BRANCH_LEQ");
      nodesTrue.push(leaf ? 0 : tree.left[n]!);
      nodesFalse.push(leaf ? 0 : tree.right[n]!);
      nodesMissingTrue.push(leaf ? 0 : (tree.missingLeft?.[n] ?? 0));
      if (!leaf) continue;
      for (let k = 0; k < forest.outputs; k++) {
        const value = tree.value[n * forest.outputs + k]!;
        // Leaves hold proportions, summed over trees; zero weights add nothing. Not with two classes: ONNX
        // Runtime treats a row that met no class-1 weight as a special "binary" case and mangles its scores.
        if (forest.task === "classification" && value === 0 && forest.outputs > 2) continue;
        leafTree.push(t);
        leafNode.push(n);
        leafTarget.push(k);
        leafWeight.push(forest.task === "classification" ? value * scale : value);
      }
    }
  });
  const common = {
    nodes_treeids: { ints: nodesTree },
    nodes_nodeids: { ints: nodesId },
    nodes_featureids: { ints: nodesFeature },
    nodes_values: { floats: Float32Array.from(nodesValue) },
    nodes_modes: nodesMode,
    nodes_truenodeids: { ints: nodesTrue },
    nodes_falsenodeids: { ints: nodesFalse },
    post_transform: "NONE",
    ...(forest.trees.some((tree) => tree.missingLeft)
      ? { nodes_missing_value_tracks_true: { ints: nodesMissingTrue } }
      : {}),
  };
  const input = tensorValue("features", "float", ["N", forest.features]);
  const opsets = { "": 15, "ai.onnx.ml": 3 };
  if (forest.task === "classification") {
    return encodeModel({
      name: "edgetrain-random-forest",
      nodes: [
        node(
          "TreeEnsembleClassifier",
          ["features"],
          ["ensemble_label", "probabilities"],
          {
            ...common,
            class_treeids: { ints: leafTree },
            class_nodeids: { ints: leafNode },
            class_ids: { ints: leafTarget },
            class_weights: { floats: Float32Array.from(leafWeight) },
            classlabels_int64s: { ints: Array.from({ length: forest.outputs }, (_, k) => k) },
          },
          "ai.onnx.ml",
        ),
        // ONNX Runtime labels two-class ensembles by its own threshold rule, not the larger probability;
        // ArgMax gives the same label as the strategy for any number of classes (first index on ties).
        node("ArgMax", ["probabilities"], ["label"], { axis: 1, keepdims: 0 }),
      ],
      inputs: [input],
      outputs: [tensorValue("label", "int64", ["N"]), tensorValue("probabilities", "float", ["N", forest.outputs])],
      metadata,
      opsets,
    });
  }
  return encodeModel({
    name: "edgetrain-random-forest",
    nodes: [
      node(
        "TreeEnsembleRegressor",
        ["features"],
        ["variable"],
        {
          ...common,
          n_targets: 1,
          aggregate_function: "AVERAGE",
          target_treeids: { ints: leafTree },
          target_nodeids: { ints: leafNode },
          target_ids: { ints: leafTarget },
          target_weights: { floats: Float32Array.from(leafWeight) },
        },
        "ai.onnx.ml",
      ),
    ],
    inputs: [input],
    outputs: [tensorValue("variable", "float", ["N", 1])],
    metadata,
    opsets,
  });
}
