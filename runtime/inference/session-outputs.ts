import { type ModelDescription, readModelDescription } from "./model-metadata.ts";
import { type ModelSignature, tableWidth } from "./model-signature.ts";
import type { TensorLike } from "./serving-session.ts";

/** Values of one row of an output, nested by its dimensions after the first. */
export type NestedValues = number | string | boolean | NestedValues[];

/**
 * One row's answer: a class with its probabilities, a value, the values of a model with several, or for
 * a model whose task is not known the row of each named output.
 */
export type PredictionOutput =
  | { label: string; probabilities: Record<string, number> }
  | number
  | number[]
  | { [output: string]: NestedValues };

/** What serving knows of a model: its task (none for an imported model that did not say) and its features. */
export interface ServedDescription {
  task?: "classification" | "regression";
  feature_names: string[];
  classes: string[];
}

/** An output of a run as plain data, for the Open Inference Protocol and for rows. */
export interface OutputTensor {
  name: string;
  type: string;
  dims: number[];
  data: number[] | string[] | boolean[];
}

/**
 * Feature names and classes: from the store's record when it has them, else from the model's metadata,
 * else from its declared table width (`x0`, `x1`, …); none for a model that takes no table.
 */
export function describe(
  bytes: Uint8Array | undefined,
  path: string,
  known: Partial<ModelDescription> | undefined,
  signature: ModelSignature,
): ServedDescription {
  // Decoding a forest's protobuf takes milliseconds on the event loop: skip it when the store already knows.
  if (known?.feature_names?.length && known.task)
    return { task: known.task, feature_names: known.feature_names, classes: known.classes ?? [] };
  const embedded = bytes ? readModelDescription(bytes, path) : undefined;
  const width = tableWidth(signature);
  const featureNames =
    known?.feature_names ?? embedded?.feature_names ?? (width ? Array.from({ length: width }, (_, i) => `x${i}`) : []);
  return {
    task: known?.task ?? embedded?.task ?? (embedded ? "regression" : undefined),
    feature_names: featureNames,
    classes: known?.classes ?? embedded?.classes ?? [],
  };
}

/** Tensors by output name: ONNX Runtime's, a tree ensemble's, or the plain ones of `outputTensors`. */
type Outputs = Record<string, TensorLike>;

export function outputTensors(outputs: Outputs): OutputTensor[] {
  return Object.entries(outputs).map(([name, tensor]) => {
    const data = Array.from(tensor.data as ArrayLike<number | bigint | string | boolean>, (x) =>
      typeof x === "bigint" ? Number(x) : x,
    );
    return { name, type: tensor.type, dims: [...tensor.dims], data: data as OutputTensor["data"] };
  });
}

/** Each row's answer, read the way the model's task says: labels and probabilities, values, or named outputs. */
export function formatOutputs(outputs: Outputs, description: ServedDescription, rows: number): PredictionOutput[] {
  if (outputs.label && outputs.probabilities) return edgetrainClasses(outputs, description.classes, rows);
  const tensors = outputTensors(outputs);
  if (description.task === "classification") {
    const probabilities = tensors.find((t) => t.dims.length === 2 && t.dims[0] === rows && t.type.startsWith("float"));
    if (probabilities) return argmaxClasses(probabilities, description.classes, rows);
  }
  if (description.task === undefined) return namedRows(tensors, rows);
  const first = tensors.find((t) => t.type.startsWith("float")) ?? tensors[0]!;
  const data = (first.data as number[]).map(Number);
  const width = data.length / rows;
  return Array.from({ length: rows }, (_, i) => (width === 1 ? data[i]! : data.slice(i * width, (i + 1) * width)));
}

/** edgetrain's own classifiers: `label` is an index into the classes, `probabilities` one column per class. */
function edgetrainClasses(outputs: Outputs, classes: string[], rows: number): PredictionOutput[] {
  const labels = outputs.label!.data as ArrayLike<number | bigint>;
  const probabilities = outputs.probabilities!.data as Float32Array;
  const width = probabilities.length / rows;
  return Array.from({ length: rows }, (_, i) => {
    const index = Number(labels[i]);
    return { label: classes[index] ?? String(index), probabilities: byClass(probabilities, i, width, classes) };
  });
}

/** A foreign classifier: the class is the most probable one, as scikit-learn's `predict` takes it. */
function argmaxClasses(tensor: OutputTensor, classes: string[], rows: number): PredictionOutput[] {
  const data = tensor.data as number[];
  const width = tensor.dims[1]!;
  return Array.from({ length: rows }, (_, i) => {
    const best = largestInRow(data, i, width);
    return { label: classes[best] ?? String(best), probabilities: byClass(data, i, width, classes) };
  });
}

/** The column of the row's largest value, the first of equal ones, as ONNX's ArgMax and scikit-learn pick it. */
export function largestInRow(data: ArrayLike<number>, row: number, width: number): number {
  let best = 0;
  for (let k = 1; k < width; k++) if (data[row * width + k]! > data[row * width + best]!) best = k;
  return best;
}

function byClass(data: ArrayLike<number>, row: number, width: number, classes: string[]): Record<string, number> {
  const answer: Record<string, number> = {};
  for (let k = 0; k < width; k++) answer[classes[k] ?? String(k)] = Math.round(data[row * width + k]! * 1e6) / 1e6;
  return answer;
}

/** Each output's row, nested by its remaining dimensions; an output without the batch dimension is given whole. */
function namedRows(tensors: OutputTensor[], rows: number): PredictionOutput[] {
  return Array.from({ length: rows }, (_, i) => {
    const row: Record<string, NestedValues> = {};
    for (const tensor of tensors) {
      const batched = tensor.dims.length > 0 && tensor.dims[0] === rows;
      const inner = batched ? tensor.dims.slice(1) : tensor.dims;
      const size = inner.reduce((a, b) => a * b, 1);
      const values = batched ? tensor.data.slice(i * size, (i + 1) * size) : tensor.data;
      row[tensor.name] = inner.length === 0 ? values[0]! : nest(values, inner);
    }
    return row;
  });
}

export function nest(values: ArrayLike<number | string | boolean>, dims: number[]): NestedValues[] {
  if (dims.length <= 1) return Array.from(values);
  const size = dims.slice(1).reduce((a, b) => a * b, 1);
  return Array.from({ length: dims[0]! }, (_, i) =>
    nest(Array.prototype.slice.call(values, i * size, (i + 1) * size) as typeof values, dims.slice(1)),
  );
}
