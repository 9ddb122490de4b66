import type { Profile } from "../../config/schema.ts";
import { loadTrainingData } from "../../data/load-training-data.ts";
import { messageOf } from "../../errors.ts";
import type { DataTable, Logger, ResolvedPaths } from "../../plugin-api.ts";
import { heldOutRows } from "../../scoring/score-version.ts";

/**
 * The local rows a fleet update is scored on by the gate: the held-out part of the data of the job that
 * trains the model here. Undefined without such a job or data; the gate then passes it uncompared.
 */
export async function heldOutForModel(
  model: string,
  source: { job: string; key?: string } | undefined,
  profile: Profile,
  paths: ResolvedPaths,
  logger: Logger,
): Promise<DataTable | undefined> {
  const spec = source && profile.jobs[source.job]?.data;
  if (!spec) return undefined;
  try {
    return heldOutRows(await loadTrainingData(spec, { dataRoot: paths.data, key: source.key, now: Date.now() }));
  } catch (error) {
    logger.warn(`no local held-out rows for model ${model}: ${messageOf(error)}`);
    return undefined;
  }
}

/** A few held-out rows in the model's feature order: every activation predicts them as a health check. */
export function healthRows(
  table: { featureNames: string[]; x: Float32Array; rows: number },
  features: string[],
): number[][] | undefined {
  const columns = features.map((name) => table.featureNames.indexOf(name));
  if (columns.some((column) => column < 0)) return undefined;
  const width = table.featureNames.length;
  return Array.from({ length: Math.min(5, table.rows) }, (_, row) =>
    columns.map((column) => table.x[row * width + column]!),
  );
}
