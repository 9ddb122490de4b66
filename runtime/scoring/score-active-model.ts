import { existsSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import type { Profile } from "../config/schema.ts";
import { readCsvTable } from "../data/csv-table.ts";
import { csvFilesIn, parseTime } from "../data/load-training-data.ts";
import { sessionWindow } from "../data/sessions.ts";
import { EdgetrainError, messageOf } from "../errors.ts";
import type { ResolvedPaths } from "../plugin-api.ts";
import { scorePredictions } from "./score-predictions.ts";
import { ScoringThread } from "./scoring-thread.ts";

export interface ActiveModelScore {
  metric: "accuracy" | "rmse";
  value: number;
  rows: number;
  /** The data scored, in words, and a fingerprint so the same data is not scored twice. */
  data: string;
  signature: string;
}

type Job = Profile["jobs"][string];

/**
 * Scores the model of job+key's last successful run on the newest data it has not trained on: for a
 * sessions source, the sessions after the ones it used; for rows, rows newer than that run. Undefined when
 * there is no model, no new data, or the model has no edgetrain metadata.
 */
export async function scoreActiveModel(
  job: Job,
  key: string | undefined,
  last: { at: number; artifact?: string; used?: string[] } | undefined,
  profile: Profile,
  paths: ResolvedPaths,
): Promise<ActiveModelScore | undefined> {
  if (!last?.artifact || !existsSync(last.artifact) || !job.data) return undefined;
  // Reading the model's description, loading it and running the rows happen off the thread that answers predictions.
  const scoring = ScoringThread.forProfile(profile, paths.cache);
  try {
    return await scoreOn(scoring, job.data, key, { ...last, artifact: last.artifact }, paths);
  } finally {
    scoring.close();
  }
}

async function scoreOn(
  scoring: ScoringThread,
  data: NonNullable<Job["data"]>,
  key: string | undefined,
  last: { at: number; artifact: string; used?: string[] },
  paths: ResolvedPaths,
): Promise<ActiveModelScore | undefined> {
  const unscorable = (error: unknown) => {
    throw new EdgetrainError("run_failed", `${last.artifact} could not be scored: ${messageOf(error)}`, {
      details: { file: last.artifact },
    });
  };
  let files: string[];
  let since: number | undefined;
  if (data.source === "sessions") {
    if (!key) return undefined;
    const used = new Set((last.used ?? []).map((file) => basename(file)));
    const { all } = sessionWindow(join(paths.data, data.path, key), data.pattern, Number.MAX_SAFE_INTEGER);
    const newestUsed = Math.max(-1, ...all.filter((s) => used.has(basename(s.file))).map((s) => s.number));
    files = all.filter((s) => s.number > newestUsed).map((s) => s.file);
  } else {
    files = csvFilesIn(join(paths.data, data.path));
    since = last.at;
  }
  if (files.length === 0) return undefined;
  const description = await scoring.describe(last.artifact).catch(unscorable);
  if (!description) return undefined;
  const keep =
    data.source === "rows"
      ? [...(data.timestamp ? [data.timestamp] : []), ...(data.key_column ? [data.key_column] : [])]
      : [];
  const table = await readCsvTable(files, {
    label: data.label,
    features: description.feature_names,
    onBadCell: "skip-row",
    keep,
  });
  const rows: number[] = [];
  for (let i = 0; i < table.labels.length; i++) {
    if (data.source === "rows" && data.key_column && key !== undefined && table.kept[data.key_column]![i] !== key)
      continue;
    if (
      since !== undefined &&
      data.source === "rows" &&
      data.timestamp &&
      !(parseTime(table.kept[data.timestamp]![i]!) > since)
    )
      continue;
    rows.push(i);
  }
  if (rows.length === 0) return undefined;
  const width = description.feature_names.length;
  const x = new Float32Array(rows.length * width);
  rows.forEach((row, i) => x.set(table.x.subarray(row * width, (row + 1) * width), i * width));
  const predicted = await scoring.predict(last.artifact, x, rows.length, width, description.classes).catch(unscorable);
  const signature = `${files.map((file) => `${basename(file)}:${statSync(file).size}`).join("|")}|${rows.length}`;
  const shown = files.map((file) => basename(file)).join(", ");
  const truth = rows.map((row) => table.labels[row]!);
  return { ...scorePredictions(description.task, predicted, truth), rows: rows.length, data: shown, signature };
}
