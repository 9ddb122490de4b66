import { existsSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import { readCsvBatches } from "../data/csv-batches.ts";
import type { ColumnChoice } from "../data/csv-table.ts";
import { parseTime } from "../data/load-training-data.ts";
import { EdgetrainError, messageOf } from "../errors.ts";

/** One observation of activity: when, and how much of each metric (players logged in, CPU %, memory %). */
export interface UsagePoint {
  at: number;
  values: Partial<Record<UsageMetric, number>>;
}

export type UsageMetric = "players" | "cpu" | "memory";
export const USAGE_METRICS: readonly UsageMetric[] = ["players", "cpu", "memory"];

/** How many unreadable rows are named in a note; the rest are counted. */
const NAMED_SKIPS = 3;

/** Rows a usage source left out because they could not be read: how many, and the first few with where and why. */
export class SkippedRows {
  count = 0;
  readonly first: string[] = [];

  add(problem: string): void {
    this.count++;
    if (this.first.length < NAMED_SKIPS) this.first.push(problem);
  }
}

/** What a usage source gave: its observations, and the rows it left out. */
export interface UsageHistory {
  points: UsagePoint[];
  skipped: SkippedRows;
}

export interface SqlUsage {
  /** postgres://… or mysql://… (MariaDB); credentials come from the environment through ${VAR}. */
  url: string;
  /** Returns a timestamp column `at` and any of `players`, `cpu`, `memory`; `$1` is the start of the history. */
  query: string;
}

/**
 * Reads activity rows with Bun's built-in SQL client (PostgreSQL, MySQL/MariaDB). `$1` in the query is
 * the start of the history window, so the database filters, not edgetrain.
 */
export async function readSqlUsage(spec: SqlUsage, since: number): Promise<UsageHistory> {
  const sql = new Bun.SQL(spec.url);
  let rows: Array<Record<string, unknown>>;
  try {
    const query = spec.url.startsWith("mysql") ? spec.query.replaceAll("$1", "?") : spec.query;
    rows = (await sql.unsafe(query, [new Date(since)])) as Array<Record<string, unknown>>;
  } catch (error) {
    throw new EdgetrainError("data_invalid", `usage query failed on ${redactUrl(spec.url)}: ${messageOf(error)}`, {
      hint: "check usage.sql.url and usage.sql.query; the query must return a column named at",
    });
  } finally {
    await sql.close();
  }
  const skipped = new SkippedRows();
  const points = rows.flatMap((row, index) => {
    const at =
      row.at instanceof Date ? row.at.getTime() : typeof row.at === "number" ? row.at : parseTime(String(row.at));
    const problem = !Number.isFinite(at) ? `at is not a time: ${JSON.stringify(row.at)}` : undefined;
    const values: UsagePoint["values"] = {};
    for (const metric of USAGE_METRICS)
      if (row[metric] !== undefined && row[metric] !== null) values[metric] = Number(row[metric]);
    const bad = USAGE_METRICS.find((metric) => Number.isNaN(values[metric]));
    const why = problem ?? (bad && `${bad} is not a number: ${JSON.stringify(row[bad])}`);
    if (why) skipped.add(`row ${index + 1}: ${why}`);
    return why ? [] : [{ at, values }];
  });
  return { points, skipped };
}

/** Folders a usage CSV's path may be relative to: paths.data, and the home only to explain a file put there. */
export interface UsageRoots {
  data: string;
  home: string;
}

/**
 * A CSV of activity: a timestamp column and any of `players`, `cpu`, `memory`. A row whose time or metric cannot be
 * read is left out and counted, the first few named by file and line, as a job's data source does with skip-row.
 */
export async function readCsvUsage(
  path: string,
  roots: UsageRoots,
  timestamp: string,
  since: number,
): Promise<UsageHistory> {
  const file = usageCsvFile(path, roots);
  const shown = relative(roots.data, file);
  const choice: ColumnChoice = {
    label: "",
    allowMissingLabel: true,
    onBadCell: "skip-row",
    keep: [timestamp],
    displayRoot: roots.data,
  };
  const skipped = new SkippedRows();
  const points: UsagePoint[] = [];
  for await (const batch of readCsvBatches(file, choice)) {
    const metrics = USAGE_METRICS.filter((metric) => batch.featureNames.includes(metric));
    const width = batch.featureNames.length;
    const times = batch.kept[timestamp]!;
    // The parser's skipped rows and the unreadable times, in the order of their lines.
    const problems = batch.skipped.map((problem) => ({ line: Number(/ line (\d+)/.exec(problem)?.[1]), problem }));
    for (let row = 0; row < batch.rows; row++) {
      const at = parseTime(times[row]!);
      if (!Number.isFinite(at)) {
        const line = batch.lines[row]!;
        problems.push({ line, problem: `${shown} line ${line}: column ${timestamp} is not a time: "${times[row]}"` });
        continue;
      }
      if (at < since) continue;
      const values: UsagePoint["values"] = {};
      for (const metric of metrics) values[metric] = batch.x[row * width + batch.featureNames.indexOf(metric)]!;
      points.push({ at, values });
    }
    for (const { problem } of problems.sort((a, b) => a.line - b.line)) skipped.add(problem);
  }
  return { points, skipped };
}

/**
 * A relative usage CSV path is under paths.data, like the jobs' data files. The reference once said the home:
 * a file left there is named with the path that would reach it, rather than a bare "no such file" in data.
 */
function usageCsvFile(path: string, roots: UsageRoots): string {
  if (isAbsolute(path)) return path;
  const file = join(roots.data, path);
  const inHome = join(roots.home, path);
  if (inHome !== file && !existsSync(file) && existsSync(inHome))
    throw new EdgetrainError(
      "data_invalid",
      `usage CSV ${path} is not at ${file} (its path is relative to paths.data) but at ${inHome}: move it, or ` +
        `write path: ${relative(roots.data, inHome)}`,
    );
  return file;
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
}
