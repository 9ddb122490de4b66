import { scorePredictions } from "../inference/score-predictions.ts";
import type { PredictionOutput } from "../inference/session-pool.ts";
import type { DataTable, VersionScore } from "../plugin-api.ts";
import type { ModelVersion } from "../store/model-store.ts";

/** Rows scored per ONNX Runtime call, so that scoring a large held-out set never blocks predictions for long. */
const SCORE_BATCH_ROWS = 512;

/**
 * Scores a version on held-out rows, taking the table's columns in the model's feature order; undefined
 * when the table lacks one of the model's features (the data changed shape since it was trained).
 */
export async function scoreVersion(version: ModelVersion, table: DataTable, predict: (version: ModelVersion, inputs: number[][]) => Promise<PredictionOutput[]>): Promise<VersionScore | undefined> {
  const names = version.feature_names;
  if (!names?.length || table.rows === 0) return undefined;
  const columns = names.map((name) => table.featureNames.indexOf(name));
  if (columns.some((column) => column < 0)) return undefined;
  const width = table.featureNames.length;
  const inputs = Array.from({ length: table.rows }, (_, row) => columns.map((column) => table.x[row * width + column]!));
  const outputs: PredictionOutput[] = [];
  for (let from = 0; from < inputs.length; from += SCORE_BATCH_ROWS) {
    outputs.push(...(await predict(version, inputs.slice(from, from + SCORE_BATCH_ROWS))));
    // ONNX Runtime runs on the calling thread: between batches, the requests waiting meanwhile are answered.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const predicted = outputs.map((output) => (typeof output === "number" ? output : Array.isArray(output) ? undefined : output.label));
  return { ...scorePredictions(version.task, predicted, table.labels), rows: table.rows };
}

/** The rows a gate compares on: the source's held-out set, else the last fifth of the training rows. */
export function heldOutRows(data: { train: DataTable; test?: DataTable }): DataTable {
  if (data.test && data.test.rows > 0) return data.test;
  const { train } = data;
  const from = Math.floor(train.rows * 0.8);
  const width = train.featureNames.length;
  return { featureNames: train.featureNames, x: train.x.slice(from * width), rows: train.rows - from, labels: train.labels.slice(from) };
}
