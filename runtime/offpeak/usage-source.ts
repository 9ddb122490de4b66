import { existsSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import { readCsvTable } from "../data/csv-table.ts";
import { parseTime } from "../data/load-training-data.ts";
import { EdgetrainError, messageOf } from "../errors.ts";

/** One observation of activity: when, and how much of each metric (players logged in, CPU %, memory %). */
export interface UsagePoint {
  at: number;
  values: Partial<Record<UsageMetric, number>>;
}

export type UsageMetric = "players" | "cpu" | "memory";
export const USAGE_METRICS: readonly UsageMetric[] = ["players", "cpu", "memory"];

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
export async function readSqlUsage(spec: SqlUsage, since: number): Promise<UsagePoint[]> {
  const sql = new Bun.SQL(spec.url);
  try {
    const query = spec.url.startsWith("mysql") ? spec.query.replaceAll("$1", "?") : spec.query;
    const rows = (await sql.unsafe(query, [new Date(since)])) as Array<Record<string, unknown>>;
    return rows.flatMap((row) => {
      const at =
        row.at instanceof Date ? row.at.getTime() : typeof row.at === "number" ? row.at : parseTime(String(row.at));
      if (!Number.isFinite(at)) return [];
      const values: UsagePoint["values"] = {};
      for (const metric of USAGE_METRICS)
        if (row[metric] !== undefined && row[metric] !== null) values[metric] = Number(row[metric]);
      return [{ at, values }];
    });
  } catch (error) {
    throw new EdgetrainError("data_invalid", `usage query failed on ${redactUrl(spec.url)}: ${messageOf(error)}`, {
      hint: "check usage.sql.url and usage.sql.query; the query must return a column named at",
    });
  } finally {
    await sql.close();
  }
}

/** Folders a usage CSV's path may be relative to: paths.data, and the home only to explain a file put there. */
export interface UsageRoots {
  data: string;
  home: string;
}

/** A CSV of activity: a timestamp column and any of `players`, `cpu`, `memory`. */
export async function readCsvUsage(
  path: string,
  roots: UsageRoots,
  timestamp: string,
  since: number,
): Promise<UsagePoint[]> {
  const dataRoot = roots.data;
  const file = usageCsvFile(path, roots);
  const table = await readCsvTable([file], {
    label: "",
    allowMissingLabel: true,
    onBadCell: "skip-row",
    keep: [timestamp],
    displayRoot: dataRoot,
  });
  const metrics = table.featureNames.map((name) => name as UsageMetric).filter((name) => USAGE_METRICS.includes(name));
  const width = table.featureNames.length;
  const points: UsagePoint[] = [];
  table.kept[timestamp]!.forEach((text, row) => {
    const at = parseTime(text);
    if (!Number.isFinite(at) || at < since) return;
    const values: UsagePoint["values"] = {};
    for (const metric of metrics) values[metric] = table.x[row * width + table.featureNames.indexOf(metric)]!;
    points.push({ at, values });
  });
  return points;
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
