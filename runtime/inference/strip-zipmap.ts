import { onnx } from "onnx-proto";

export interface ZipMapRemoval {
  /** The model without its ZipMap nodes. */
  bytes: Uint8Array;
  /** What was changed, in words for the user; empty when the model had no ZipMap. */
  changes: string[];
  /** The class labels the ZipMap named, in the order of the probability columns. */
  classes?: string[];
}

/**
 * scikit-learn's converters end a classifier with ZipMap: a sequence of maps, one per row, which
 * onnxruntime-node cannot return. Each ZipMap that makes a graph output becomes an Identity of the
 * probability tensor it zipped, under the same output name, declared as float `[N, classes]`.
 */
export function stripZipMap(bytes: Uint8Array, model: onnx.ModelProto = onnx.ModelProto.decode(bytes)): ZipMapRemoval {
  const graph = model.graph;
  const changes: string[] = [];
  let classes: string[] | undefined;
  if (!graph) return { bytes, changes };
  for (const node of graph.node ?? []) {
    if (node.opType !== "ZipMap") continue;
    const output = graph.output?.find((value) => value.name === node.output?.[0]);
    if (!output) continue;
    const labels = zipMapLabels(node);
    classes ??= labels;
    node.opType = "Identity";
    node.domain = "";
    node.attribute = [];
    output.type = onnx.TypeProto.create({
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: [{ dimParam: "N" }, labels.length ? { dimValue: labels.length } : { dimParam: "classes" }] },
      },
    });
    changes.push(
      `output ${output.name}: scikit-learn's ZipMap (one map per row) removed; it is now the probability tensor [N, ` +
        `${labels.length || "classes"}]${labels.length ? ` of classes ${labels.join(", ")}` : ""}`,
    );
  }
  if (!changes.length) return { bytes, changes };
  return { bytes: onnx.ModelProto.encode(model).finish(), changes, classes };
}

function zipMapLabels(node: onnx.INodeProto): string[] {
  const decoder = new TextDecoder();
  for (const attribute of node.attribute ?? []) {
    if (attribute.name === "classlabels_int64s") return (attribute.ints ?? []).map((value) => String(value));
    if (attribute.name === "classlabels_strings")
      return (attribute.strings ?? []).map((value) => decoder.decode(value));
  }
  return [];
}
