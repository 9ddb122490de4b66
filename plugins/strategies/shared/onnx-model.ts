import { onnx } from "onnx-proto";

/**
 * Small builders over the ONNX protobuf definitions (onnx-proto, encoded by protobufjs): models are
 * written as proper ModelProto messages, never as hand-made bytes.
 */
const { AttributeType } = onnx.AttributeProto;
const { DataType } = onnx.TensorProto;

export type AttributeValue =
  | number
  | string
  | number[]
  | string[]
  | Float32Array
  | { floats: number[] | Float32Array }
  | { ints: number[] };

/** Attribute from a JavaScript value: integers → INT(S), other numbers → FLOAT(S), text → STRING(S). */
export function attribute(name: string, value: AttributeValue): onnx.IAttributeProto {
  if (typeof value === "string") return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === "number")
    return Number.isInteger(value)
      ? { name, type: AttributeType.INT, i: value }
      : { name, type: AttributeType.FLOAT, f: value };
  if (value instanceof Float32Array) return { name, type: AttributeType.FLOATS, floats: Array.from(value) };
  if ("floats" in value) return { name, type: AttributeType.FLOATS, floats: Array.from(value.floats) };
  if ("ints" in value) return { name, type: AttributeType.INTS, ints: value.ints };
  if (value.length > 0 && typeof value[0] === "string")
    return { name, type: AttributeType.STRINGS, strings: (value as string[]).map((s) => new TextEncoder().encode(s)) };
  return { name, type: AttributeType.INTS, ints: value as number[] };
}

export function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attributes: Record<string, AttributeValue> = {},
  domain = "",
): onnx.INodeProto {
  return {
    opType,
    input: inputs,
    output: outputs,
    domain,
    name: `${opType}_${outputs[0]}`,
    attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
  };
}

export function floatTensor(name: string, dims: number[], values: Float32Array | number[]): onnx.ITensorProto {
  return { name, dims, dataType: DataType.FLOAT, floatData: Array.from(values) };
}

export function int64Tensor(name: string, dims: number[], values: number[]): onnx.ITensorProto {
  return { name, dims, dataType: DataType.INT64, int64Data: values };
}

type Dim = number | string;

export function tensorValue(name: string, elemType: "float" | "int64", dims: Dim[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: elemType === "float" ? DataType.FLOAT : DataType.INT64,
        shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export interface ModelSpec {
  name: string;
  nodes: onnx.INodeProto[];
  inputs: onnx.IValueInfoProto[];
  outputs: onnx.IValueInfoProto[];
  initializers?: onnx.ITensorProto[];
  /** Stored as metadata_props; read back by the model store and `edgetrain predict`. */
  metadata: Record<string, string>;
  /** Opsets: the default domain, and ai.onnx.ml where tree ensembles are used. */
  opsets: Record<string, number>;
}

export const PRODUCER = "edgetrain";

export function encodeModel(spec: ModelSpec): Uint8Array {
  const model: onnx.IModelProto = {
    irVersion: 8,
    producerName: PRODUCER,
    producerVersion: "1",
    opsetImport: Object.entries(spec.opsets).map(([domain, version]) => ({ domain, version })),
    graph: {
      name: spec.name,
      node: spec.nodes,
      input: spec.inputs,
      output: spec.outputs,
      initializer: spec.initializers ?? [],
    },
    metadataProps: Object.entries(spec.metadata).map(([key, value]) => ({ key, value })),
  };
  const error = onnx.ModelProto.verify(model);
  if (error) throw new Error(`invalid ONNX model: ${error}`);
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

export function decodeMetadata(bytes: Uint8Array): Record<string, string> {
  const model = onnx.ModelProto.decode(bytes);
  return Object.fromEntries((model.metadataProps ?? []).map((entry) => [entry.key ?? "", entry.value ?? ""]));
}
