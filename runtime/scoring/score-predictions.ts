import type * as Ort from "onnxruntime-common";

/**
 * Each row's prediction from a model's outputs: its label's class name (a label that is already text is
 * kept), or its one value; undefined where a row has several values and so no single prediction.
 */
export function predictionsOf(
  outputs: Ort.InferenceSession.ReturnType,
  classes: string[],
  rows: number,
): Array<string | number | undefined> {
  // Another framework's classifier (scikit-learn's output_label) gives the class itself, not its index.
  const foreign = Object.entries(outputs).find(
    ([name, t]) => name !== "label" && name.endsWith("label") && t.dims.length === 1,
  );
  if (!outputs.label && foreign) {
    return Array.from(foreign[1].data as ArrayLike<number | bigint | string>, (label) => String(label)).slice(0, rows);
  }
  if (outputs.label) {
    const labels = outputs.label.data as ArrayLike<number | bigint | string>;
    return Array.from({ length: rows }, (_, i) => {
      const label = labels[i]!;
      return typeof label === "string" ? label : (classes[Number(label)] ?? String(label));
    });
  }
  const values = (outputs.variable ?? Object.values(outputs)[0]!).data as ArrayLike<number>;
  const perRow = values.length / rows;
  return Array.from({ length: rows }, (_, i) => (perRow === 1 ? Number(values[i]) : undefined));
}

/**
 * How well predictions match the truth: accuracy for classes (predicted names against label text), RMSE
 * for values. Used by `edgetrain predict`, the accuracy-below trigger and the deploy gate alike.
 */
export function scorePredictions(
  task: "classification" | "regression" | undefined,
  predicted: ArrayLike<string | number | undefined>,
  truth: ArrayLike<string>,
): { metric: "accuracy" | "rmse"; value: number } {
  const rows = truth.length;
  if (task === "classification") {
    let right = 0;
    for (let i = 0; i < rows; i++) if (predicted[i] === truth[i]) right++;
    return { metric: "accuracy", value: rows ? right / rows : 0 };
  }
  let squared = 0;
  for (let i = 0; i < rows; i++)
    squared += ((typeof predicted[i] === "number" ? (predicted[i] as number) : NaN) - Number(truth[i])) ** 2;
  return { metric: "rmse", value: Math.sqrt(squared / Math.max(1, rows)) };
}
