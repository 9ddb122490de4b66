import type * as Ort from "onnxruntime-common";

/** A dimension: a size, or the name of a symbolic one (`batch`; `""` where the model leaves it unnamed). */
export type Dimension = number | string;

/** One input or output of a model, as the model itself declares it. */
export interface TensorSpec {
  name: string;
  /** ONNX Runtime's element type (`float32`, `int64`, `string`, …); `sequence`/`map` for values that are no tensor. */
  type: string;
  /** Empty when the model does not declare it. */
  shape: Dimension[];
}

export interface ModelSignature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

/** Element types a request can give as JSON numbers (or booleans), with what ONNX Runtime builds them from. */
export const NUMERIC_TYPES = [
  "float32",
  "float64",
  "int8",
  "uint8",
  "int16",
  "uint16",
  "int32",
  "uint32",
  "int64",
  "uint64",
  "bool",
] as const;
export type NumericType = (typeof NUMERIC_TYPES)[number];

export function isNumericType(type: string): type is NumericType {
  return (NUMERIC_TYPES as readonly string[]).includes(type);
}

/** Reads the inputs and outputs a session declares: names, element types, shapes with their symbolic dimensions. */
export function signatureOf(
  session: Pick<Ort.InferenceSession, "inputNames" | "outputNames"> &
    Partial<Pick<Ort.InferenceSession, "inputMetadata" | "outputMetadata">>,
): ModelSignature {
  const specs = (names: readonly string[], metadata: readonly Ort.InferenceSession.ValueMetadata[] | undefined) =>
    names.map((name, i): TensorSpec => {
      const meta = metadata?.[i];
      if (!meta) return { name, type: "float32", shape: [] };
      return meta.isTensor ? { name, type: meta.type, shape: [...meta.shape] } : { name, type: "sequence", shape: [] };
    });
  return {
    inputs: specs(session.inputNames, session.inputMetadata),
    outputs: specs(session.outputNames, session.outputMetadata),
  };
}

/**
 * The width of a model that takes one float32 table `[rows, width]`: rows of features, the form edgetrain's
 * own models have and the one the feature path batches. Undefined for any other model.
 */
export function tableWidth(signature: ModelSignature): number | undefined {
  if (signature.inputs.length !== 1) return undefined;
  const [input] = signature.inputs;
  if (input!.type !== "float32") return undefined;
  // A model that declares no shape is taken to be a table, as edgetrain's own models were read before.
  if (input!.shape.length === 0) return undefined;
  const [rows, width] = input!.shape;
  return input!.shape.length === 2 && typeof rows !== "number" && typeof width === "number" ? width : undefined;
}

/** A shape as people read it: `[batch, 3, 224, 224]`, with `?` for an unnamed dimension. */
export function shapeText(shape: readonly Dimension[]): string {
  return `[${shape.map((d) => (d === "" ? "?" : String(d))).join(", ")}]`;
}
