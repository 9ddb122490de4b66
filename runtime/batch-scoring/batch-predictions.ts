import type * as Ort from "onnxruntime-common";
import { EdgetrainError } from "../errors.ts";
import type { BatchPredictions } from "../plugin-api.ts";
import { predictionsOf } from "../scoring/score-predictions.ts";

type Outputs = Ort.InferenceSession.ReturnType;

interface Described {
  name: string;
  version: number;
  task: "classification" | "regression";
  classes: string[];
}

/**
 * A batch's answers by column, read from the model's outputs as the gate reads them (predictionsOf): a class
 * per row with the probability tensor where the model has one, or one value per row.
 */
export function batchPredictions(outputs: Outputs, model: Described, rows: number): BatchPredictions {
  if (model.task === "regression") return { rows, values: valuesOf(outputs, model, rows) };
  const probabilities = probabilityTensor(outputs, rows);
  const hasLabel = Object.entries(outputs).some(([name, t]) => name.endsWith("label") && t.dims.length === 1);
  const labels =
    indexLabels(outputs, model.classes, rows) ??
    (hasLabel
      ? predictionsOf(outputs, model.classes, rows).map(String)
      : probabilities && argmax(probabilities, model.classes, rows));
  if (!labels) throw unreadable(model, "it gives neither a label nor a probability per class");
  const width = probabilities ? probabilities.data.length / rows : 0;
  const fits =
    probabilities && probabilities.type === "float32" && (model.classes.length === 0 || width === model.classes.length);
  return { rows, labels, ...(fits ? { probabilities: probabilities.data as Float32Array } : {}) };
}

function valuesOf(outputs: Outputs, model: Described, rows: number): Float32Array {
  const tensor = outputs.variable ?? Object.values(outputs).find((t) => t.type.startsWith("float"));
  if (!tensor) throw unreadable(model, "it has no float output to read values from");
  if (tensor.data.length !== rows)
    throw unreadable(model, `it gives ${tensor.data.length / rows} values per row; a score job writes one`);
  return tensor.data instanceof Float32Array ? tensor.data : Float32Array.from(tensor.data as ArrayLike<number>);
}

/** The per-class probabilities: edgetrain's `probabilities`, or a foreign classifier's [rows, classes] float output. */
function probabilityTensor(outputs: Outputs, rows: number): Ort.Tensor | undefined {
  if (outputs.probabilities) return outputs.probabilities;
  return Object.entries(outputs).find(
    ([name, t]) => !name.endsWith("label") && t.dims.length === 2 && t.dims[0] === rows && t.type.startsWith("float"),
  )?.[1];
}

/**
 * edgetrain's own classifiers give each row's class as an index into the classes: named here without a
 * string or a number made per row, which for millions of rows costs more than the model.
 */
function indexLabels(outputs: Outputs, classes: string[], rows: number): string[] | undefined {
  const data = outputs.label?.data;
  if (!(data instanceof BigInt64Array) || classes.length === 0) return undefined;
  const labels = new Array<string>(rows);
  for (let i = 0; i < rows; i++) labels[i] = classes[Number(data[i])] ?? String(data[i]);
  return labels;
}

/** The most probable class of each row, as scikit-learn's predict takes it. */
function argmax(tensor: Ort.Tensor, classes: string[], rows: number): string[] {
  const data = tensor.data as ArrayLike<number>;
  const width = data.length / rows;
  const names = Array.from({ length: width }, (_, k) => classes[k] ?? String(k));
  const labels = new Array<string>(rows);
  for (let i = 0; i < rows; i++) {
    let best = 0;
    for (let k = 1; k < width; k++) if (data[i * width + k]! > data[i * width + best]!) best = k;
    labels[i] = names[best]!;
  }
  return labels;
}

function unreadable(model: Described, why: string): EdgetrainError {
  const message = `model ${model.name} version ${model.version} cannot score rows as ${model.task}: ${why}`;
  return new EdgetrainError("model_not_loadable", message, { details: { model: model.name, version: model.version } });
}
