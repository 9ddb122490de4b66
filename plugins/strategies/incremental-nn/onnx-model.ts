import { onnx } from "onnx-proto";
import { encodeModel, floatTensor, node, tensorValue } from "../shared/onnx-model.ts";
import type { Mlp } from "./mlp.ts";

/** What the graph needs besides the weights: the standardisation kept with the model. */
export interface Scaling {
  mean: Float32Array;
  std: Float32Array;
  /** Regression targets are learned standardised; the graph scales them back. */
  targetMean: number;
  targetStd: number;
}

/**
 * features → Sub(mean) → Div(std) → [Gemm → Relu|Tanh]… → Gemm → Softmax → `probabilities` and
 * ArgMax → `label` (classification), or → Mul(target std) → Add(target mean) → `variable` [N, 1].
 * The standardisation lives inside the graph, so callers send raw features.
 */
export function mlpToOnnx(
  mlp: Mlp,
  scaling: Scaling,
  classification: boolean,
  metadata: Record<string, string>,
): Uint8Array {
  const inputs = mlp.sizes[0]!;
  const outputs = mlp.sizes.at(-1)!;
  const initializers = [floatTensor("mean", [inputs], scaling.mean), floatTensor("std", [inputs], scaling.std)];
  const nodes = [node("Sub", ["features", "mean"], ["centred"]), node("Div", ["centred", "std"], ["standardised"])];
  let current = "standardised";
  mlp.weights.forEach((weights, l) => {
    initializers.push(
      floatTensor(`W${l}`, [mlp.sizes[l]!, mlp.sizes[l + 1]!], weights),
      floatTensor(`b${l}`, [mlp.sizes[l + 1]!], mlp.biases[l]!),
    );
    nodes.push(node("Gemm", [current, `W${l}`, `b${l}`], [`z${l}`]));
    current = `z${l}`;
    if (l < mlp.weights.length - 1) {
      nodes.push(node(mlp.activation === "relu" ? "Relu" : "Tanh", [current], [`a${l}`]));
      current = `a${l}`;
    }
  });
  if (classification) {
    nodes.push(
      node("Softmax", [current], ["probabilities"], { axis: 1 }),
      node("ArgMax", ["probabilities"], ["label"], { axis: 1, keepdims: 0 }),
    );
  } else {
    initializers.push(
      floatTensor("target_std", [1], [scaling.targetStd]),
      floatTensor("target_mean", [1], [scaling.targetMean]),
    );
    nodes.push(node("Mul", [current, "target_std"], ["scaled"]), node("Add", ["scaled", "target_mean"], ["variable"]));
  }
  return encodeModel({
    name: "edgetrain-incremental-nn",
    nodes,
    inputs: [tensorValue("features", "float", ["N", inputs])],
    outputs: classification
      ? [tensorValue("label", "int64", ["N"]), tensorValue("probabilities", "float", ["N", outputs])]
      : [tensorValue("variable", "float", ["N", 1])],
    initializers,
    metadata,
    opsets: { "": 15 },
  });
}

/** Reads weights and scaling back from a model this strategy wrote, for a warm start. */
export function mlpFromOnnx(bytes: Uint8Array): {
  mlp: Omit<Mlp, "activation">;
  activation?: string;
  scaling: Scaling;
  metadata: Record<string, string>;
} {
  const model = onnx.ModelProto.decode(bytes);
  const tensors = new Map(
    (model.graph?.initializer ?? []).map((tensor) => [tensor.name ?? "", Float32Array.from(tensor.floatData ?? [])]),
  );
  const weights: Float32Array[] = [];
  const biases: Float32Array[] = [];
  const sizes: number[] = [];
  for (let l = 0; tensors.has(`W${l}`); l++) {
    const dims = model.graph!.initializer!.find((t) => t.name === `W${l}`)!.dims!.map(Number);
    if (l === 0) sizes.push(dims[0]!);
    sizes.push(dims[1]!);
    weights.push(tensors.get(`W${l}`)!);
    biases.push(tensors.get(`b${l}`)!);
  }
  if (weights.length === 0 || !tensors.has("mean"))
    throw new Error("not a model written by incremental-nn (no W0 or mean)");
  const activation = model.graph!.node!.find((n) => n.opType === "Relu" || n.opType === "Tanh")?.opType?.toLowerCase();
  return {
    mlp: { sizes, weights, biases },
    activation,
    scaling: {
      mean: tensors.get("mean")!,
      std: tensors.get("std")!,
      targetMean: tensors.get("target_mean")?.[0] ?? 0,
      targetStd: tensors.get("target_std")?.[0] ?? 1,
    },
    metadata: Object.fromEntries((model.metadataProps ?? []).map((p) => [p.key ?? "", p.value ?? ""])),
  };
}
