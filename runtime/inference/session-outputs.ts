import type * as Ort from "onnxruntime-common";
import { EdgetrainError } from "../errors.ts";
import { readModelDescription, type ModelDescription } from "./model-metadata.ts";

/** One row's answer: a class with its probabilities, a value, or the raw output of a foreign model. */
export type PredictionOutput = { label: string; probabilities: Record<string, number> } | number | number[];

/** Feature names and classes: from the store's record when it has them, else from the model's metadata. */
export function describe(bytes: Uint8Array, path: string, known?: Partial<ModelDescription>): ModelDescription {
  // Decoding a forest's protobuf takes milliseconds on the event loop: skip it when the store already knows.
  if (known?.feature_names?.length && known.task) return { task: known.task, feature_names: known.feature_names, classes: known.classes ?? [] };
  const embedded = readModelDescription(bytes, path);
  const featureNames = known?.feature_names ?? embedded?.feature_names;
  if (!featureNames?.length) throw new EdgetrainError("model_not_loadable", `${path} names no features (no edgetrain metadata): inputs cannot be checked`, { details: { file: path } });
  return { task: known?.task ?? embedded?.task ?? "regression", feature_names: featureNames, classes: known?.classes ?? embedded?.classes ?? [] };
}

export function formatOutputs(outputs: Ort.InferenceSession.ReturnType, description: ModelDescription, rows: number): PredictionOutput[] {
  if (outputs.label && outputs.probabilities) {
    const labels = outputs.label.data as ArrayLike<number | bigint>;
    const probabilities = outputs.probabilities.data as Float32Array;
    const classes = description.classes;
    const width = probabilities.length / rows;
    return Array.from({ length: rows }, (_, i) => {
      const index = Number(labels[i]);
      const byClass: Record<string, number> = {};
      for (let k = 0; k < width; k++) byClass[classes[k] ?? String(k)] = Math.round(probabilities[i * width + k]! * 1e6) / 1e6;
      return { label: classes[index] ?? String(index), probabilities: byClass };
    });
  }
  const first = outputs.variable ?? Object.values(outputs)[0]!;
  const data = Array.from(first.data as ArrayLike<number>, Number);
  const width = data.length / rows;
  return Array.from({ length: rows }, (_, i) => (width === 1 ? data[i]! : data.slice(i * width, (i + 1) * width)));
}
