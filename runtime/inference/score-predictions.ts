/**
 * How well predictions match the truth: accuracy for classes (predicted names against label text), RMSE
 * for values. Used by `edgetrain predict`, the accuracy-below trigger and the deploy gate alike.
 */
export function scorePredictions(task: "classification" | "regression" | undefined, predicted: ArrayLike<string | number | undefined>, truth: ArrayLike<string>): { metric: "accuracy" | "rmse"; value: number } {
  const rows = truth.length;
  if (task === "classification") {
    let right = 0;
    for (let i = 0; i < rows; i++) if (predicted[i] === truth[i]) right++;
    return { metric: "accuracy", value: rows ? right / rows : 0 };
  }
  let squared = 0;
  for (let i = 0; i < rows; i++) squared += ((typeof predicted[i] === "number" ? (predicted[i] as number) : NaN) - Number(truth[i])) ** 2;
  return { metric: "rmse", value: Math.sqrt(squared / Math.max(1, rows)) };
}
