import { EdgetrainError, messageOf } from "../errors.ts";
import type { DataTable, VersionScore } from "../plugin-api.ts";
import type { ModelVersion } from "../store/model-store.ts";
import { scorePredictions } from "./score-predictions.ts";

/** Predicts rows (in the version's feature order) with a version: a class name or a value per row. */
export type PredictRows = (
  version: ModelVersion,
  x: Float32Array,
  rows: number,
) => Promise<Array<string | number | undefined>>;

/**
 * Scores a version on held-out rows, taking the table's columns in the model's feature order; undefined
 * when the table lacks one of the model's features (the data changed shape since it was trained).
 */
export async function scoreVersion(
  version: ModelVersion,
  table: DataTable,
  predict: PredictRows,
): Promise<VersionScore | undefined> {
  const names = version.feature_names;
  if (!names?.length || table.rows === 0) return undefined;
  const columns = names.map((name) => table.featureNames.indexOf(name));
  if (columns.some((column) => column < 0)) return undefined;
  const from = table.featureNames.length;
  const to = columns.length;
  const x = new Float32Array(table.rows * to);
  for (let row = 0; row < table.rows; row++)
    for (let j = 0; j < to; j++) x[row * to + j] = table.x[row * from + columns[j]!]!;
  const predicted = await predict(version, x, table.rows).catch((error: unknown) => {
    throw new EdgetrainError(
      "run_failed",
      `model ${version.model} version ${version.version} could not be scored: ${messageOf(error)}`,
      { details: { model: version.model, version: version.version } },
    );
  });
  return { ...scorePredictions(version.task, predicted, table.labels), rows: table.rows };
}

/** The rows a gate compares on: the source's held-out set, else the last fifth of the training rows. */
export function heldOutRows(data: { train: DataTable; test?: DataTable }): DataTable {
  if (data.test && data.test.rows > 0) return data.test;
  const { train } = data;
  const from = Math.floor(train.rows * 0.8);
  const width = train.featureNames.length;
  return {
    featureNames: train.featureNames,
    x: train.x.slice(from * width),
    rows: train.rows - from,
    labels: train.labels.slice(from),
  };
}
