import type { DataTable } from "../../../runtime/plugin-api.ts";
import { encodeClasses, encodeTargets, type Task } from "./labels.ts";
import { accuracy, argmaxRows, macroF1, r2, rmse } from "./metrics.ts";

/**
 * Held-out metrics from a model's outputs on `test`: class probabilities (rows × classes) give accuracy and
 * macro F1, predictions (rows × 1) give RMSE and R².
 */
export function evaluate(
  task: Task,
  test: DataTable,
  classes: readonly string[],
  outputs: Float32Array,
): Record<string, number> {
  if (task === "classification") {
    const truth = encodeClasses(test, classes);
    const predicted = argmaxRows(outputs, test.rows, classes.length);
    return { accuracy: accuracy(truth, predicted), f1: macroF1(truth, predicted, classes.length) };
  }
  const truth = encodeTargets(test, "test data");
  return { rmse: rmse(truth, outputs), r2: r2(truth, outputs) };
}

/** What a strategy stores in the model's metadata_props["edgetrain"]: read by predict and the model store. */
export function describeModel(
  task: Task,
  train: DataTable,
  classes: readonly string[],
  strategy: string,
  options: unknown,
  metrics: Record<string, number>,
  extra: Record<string, unknown> = {},
) {
  return {
    task,
    feature_names: train.featureNames,
    classes: [...classes],
    strategy,
    options,
    metrics,
    ...extra,
    outputs:
      task === "classification"
        ? { label: "class index into classes, int64 [N]", probabilities: "float [N, classes]" }
        : { variable: "float [N, 1]" },
  };
}
