/**
 * The Open Inference Protocol (KServe v2, as Triton and KServe speak it) over the serving version of a
 * model: its metadata from the inputs and outputs the model declares, and inference on named tensors.
 */
import { EdgetrainError } from "../errors.ts";
import type { Dimension, ModelSignature, TensorSpec } from "../inference/model-signature.ts";
import type { OutputTensor } from "../inference/session-outputs.ts";
import type { TensorValue } from "../inference/tensor-input.ts";

/** The protocol's datatypes by ONNX Runtime's element types. */
const DATATYPES: Record<string, string> = {
  bool: "BOOL",
  uint8: "UINT8",
  uint16: "UINT16",
  uint32: "UINT32",
  uint64: "UINT64",
  int8: "INT8",
  int16: "INT16",
  int32: "INT32",
  int64: "INT64",
  float16: "FP16",
  float32: "FP32",
  float64: "FP64",
  string: "BYTES",
};

export interface MetadataTensor {
  name: string;
  datatype: string;
  /** -1 for a dimension the model leaves open (the batch). */
  shape: number[];
}

export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: MetadataTensor[];
  outputs: MetadataTensor[];
}

export interface InferRequest {
  id?: string;
  parameters?: Record<string, unknown>;
  inputs: Array<{
    name: string;
    shape: number[];
    datatype: string;
    parameters?: Record<string, unknown>;
    data: unknown[];
  }>;
  outputs?: Array<{ name: string; parameters?: Record<string, unknown> }>;
}

export interface InferResponse {
  model_name: string;
  model_version: string;
  id?: string;
  outputs: Array<MetadataTensor & { data: Array<number | string | boolean> }>;
}

export function datatypeOf(type: string): string {
  return DATATYPES[type] ?? type.toUpperCase();
}

function metadataTensor(spec: TensorSpec): MetadataTensor {
  return {
    name: spec.name,
    datatype: datatypeOf(spec.type),
    shape: spec.shape.map((d: Dimension) => (typeof d === "number" && d >= 0 ? d : -1)),
  };
}

export function modelMetadata(model: string, version: number, signature: ModelSignature): ModelMetadata {
  // ZipMap-like outputs (a sequence of maps) cannot be returned, so they are not offered.
  const outputs = signature.outputs.filter((output) => output.type !== "sequence");
  return {
    name: model,
    versions: [String(version)],
    platform: "onnxruntime_onnx",
    inputs: signature.inputs.map(metadataTensor),
    outputs: outputs.map(metadataTensor),
  };
}

/**
 * The request's tensors by name, each datatype checked against the model's input; shapes and values are
 * checked by the same rules as `/v1/predict` (tensor-input.ts).
 */
export function inferInputs(
  request: InferRequest,
  signature: ModelSignature,
  model: string,
): Record<string, TensorValue> {
  const given: Record<string, TensorValue> = {};
  request.inputs.forEach((input, i) => {
    const spec = signature.inputs.find((s) => s.name === input.name);
    const field = `inputs[${i}]`;
    if (spec && datatypeOf(spec.type) !== input.datatype) {
      throw new EdgetrainError(
        "bad_input",
        `${field} (${input.name}): datatype ${input.datatype}, but model ${model} takes ${datatypeOf(spec.type)}`,
        { details: { field: `${field}.datatype` } },
      );
    }
    if (input.name in given)
      throw new EdgetrainError("bad_input", `${field}: input ${input.name} given twice`, { details: { field } });
    given[input.name] = { data: input.data, shape: input.shape };
  });
  return given;
}

export function inferResponse(
  model: string,
  version: number,
  request: InferRequest,
  tensors: OutputTensor[],
): InferResponse {
  const wanted = request.outputs?.map((output) => output.name);
  const unknown = wanted?.find((name) => !tensors.some((t) => t.name === name));
  if (unknown !== undefined)
    throw new EdgetrainError(
      "bad_input",
      `outputs: model ${model} has no output "${unknown}" (outputs: ${tensors.map((t) => t.name).join(", ")})`,
      { details: { field: "outputs" } },
    );
  const chosen = wanted ? tensors.filter((t) => wanted.includes(t.name)) : tensors;
  return {
    model_name: model,
    model_version: String(version),
    ...(request.id !== undefined ? { id: request.id } : {}),
    outputs: chosen.map((t) => ({ name: t.name, datatype: datatypeOf(t.type), shape: t.dims, data: t.data })),
  };
}
