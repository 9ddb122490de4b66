import { readdirSync, type Stats, statSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { durationMs } from "../config/duration.ts";
import { EdgetrainError } from "../errors.ts";
import { naturalOrder } from "../natural-order.ts";
import type { DataTable, TrainingData } from "../plugin-api.ts";
import { fileFingerprint, isDataFile, waitUntilStable } from "./changes.ts";
import { type ColumnChoice, type CsvTable, readCsvTable } from "./csv-table.ts";
import { sessionWindow } from "./sessions.ts";
import type { DataSourceSpec, RowsSpec, SessionsSpec } from "./source-spec.ts";

export interface LoadContext {
  /** `paths.data`; source paths are relative to it. */
  dataRoot: string;
  /** The key this run trains for (player_7, AAPL); undefined for a job without keys. */
  key?: string;
  now: number;
}

export async function loadTrainingData(spec: DataSourceSpec, context: LoadContext): Promise<TrainingData> {
  return spec.source === "sessions" ? loadSessions(spec, context) : loadRows(spec, context);
}

function columnsOf(spec: SessionsSpec | RowsSpec, displayRoot: string, keep: string[] = []): ColumnChoice {
  return {
    label: spec.label,
    features: spec.features,
    exclude: spec.exclude,
    onBadCell: spec.on_bad_cell,
    displayRoot,
    keep,
  };
}

async function loadSessions(spec: SessionsSpec, context: LoadContext): Promise<TrainingData> {
  if (!context.key)
    throw new EdgetrainError(
      "data_invalid",
      "a sessions source trains one model per key: name the key (--key player_7)",
    );
  const root = join(context.dataRoot, spec.path);
  const { all, window } = sessionWindow(join(root, context.key), spec.pattern, spec.sessions_to_use);
  if (window.length === 0)
    throw new EdgetrainError(
      "data_invalid",
      `no session files matching /${spec.pattern}/ in ${join(root, context.key)}`,
      { details: { path: join(root, context.key) } },
    );
  await waitUntilStable(
    window.map((s) => s.file),
    durationMs(spec.debounce),
  );
  const holdOut = spec.holdout === "last-session" && window.length >= 2;
  const trainFiles = (holdOut ? window.slice(0, -1) : window).map((s) => s.file);
  const train = await readCsvTable(trainFiles, columnsOf(spec, context.dataRoot));
  const test = holdOut
    ? await readCsvTable([window.at(-1)!.file], { ...columnsOf(spec, context.dataRoot), features: train.featureNames })
    : undefined;
  const first = basename(window[0]!.file).match(new RegExp(spec.pattern))?.[0]?.replace(/_$/, "") ?? "";
  const last = basename(window.at(-1)!.file).match(new RegExp(spec.pattern))?.[0]?.replace(/_$/, "") ?? "";
  return {
    train: tableOf(train),
    test: test && tableOf(test),
    summary: {
      files: trainFiles.map((file) => relative(context.dataRoot, file)),
      testFiles: holdOut ? [relative(context.dataRoot, window.at(-1)!.file)] : [],
      rows: train.labels.length,
      testRows: test?.labels.length ?? 0,
      excludedColumns: train.excludedColumns,
      skipped: [...train.skipped, ...(test?.skipped ?? [])],
      window:
        `${first}–${last} (latest ${window.length} of ${all.length} ` +
        `sessions${holdOut ? `, ${last} held out for testing` : ""})`,
    },
  };
}

async function loadRows(spec: RowsSpec, context: LoadContext): Promise<TrainingData> {
  const train = await rowsFrom(spec.path, spec, context);
  const test =
    spec.test_path !== undefined ? await rowsFrom(spec.test_path, spec, context, train.table.featureNames) : undefined;
  return {
    train: train.table,
    test: test?.table,
    summary: {
      ...train.summary,
      testFiles: test?.summary.files ?? [],
      testRows: test?.table.rows ?? 0,
      skipped: [...train.summary.skipped, ...(test?.summary.skipped ?? [])],
    },
  };
}

async function rowsFrom(
  relativePath: string,
  spec: RowsSpec,
  context: LoadContext,
  features?: string[],
): Promise<{ table: DataTable; summary: TrainingData["summary"] }> {
  const path = join(context.dataRoot, relativePath);
  let files = csvFilesIn(path);
  if (spec.key_from === "file" && context.key) files = files.filter((file) => basename(file, ".csv") === context.key);
  if (files.length === 0)
    throw new EdgetrainError(
      "data_invalid",
      `no CSV files in ${path}${spec.key_from && context.key ? ` for key ${context.key}` : ""}`,
      { details: { path } },
    );
  await waitUntilStable(files, durationMs(spec.debounce));
  const keep = [...(spec.timestamp ? [spec.timestamp] : []), ...(spec.key_column ? [spec.key_column] : [])];
  const choice = { ...columnsOf(spec, context.dataRoot, keep), ...(features ? { features } : {}) };
  const { table, rowsOfKey } = features
    ? { table: await readCsvTable(files, choice), rowsOfKey: undefined }
    : await readShared(files, choice, spec.key_column);
  const since = spec.last !== undefined ? context.now - durationMs(spec.last) : undefined;
  if (since !== undefined && !spec.timestamp)
    throw new EdgetrainError("data_invalid", `data.last needs data.timestamp: which column holds the time?`);
  const candidates =
    spec.key_column && context.key !== undefined
      ? rowsOfKey
        ? (rowsOfKey.get(context.key) ?? [])
        : table.kept[spec.key_column]!.flatMap((key, row) => (key === context.key ? [row] : []))
      : undefined;
  const rows: number[] = [];
  for (let c = 0, count = candidates?.length ?? table.labels.length; c < count; c++) {
    const i = candidates ? candidates[c]! : c;
    if (since !== undefined) {
      const time = parseTime(table.kept[spec.timestamp!]![i]!);
      if (Number.isNaN(time) || time < since || time > context.now) continue;
    }
    rows.push(i);
  }
  const selected = subset(table, rows);
  return {
    table: selected,
    summary: {
      files: files.map((file) => relative(context.dataRoot, file)),
      testFiles: [],
      rows: selected.rows,
      testRows: 0,
      excludedColumns: table.excludedColumns.filter((name) => !keep.includes(name)),
      skipped: table.skipped,
      window: spec.last !== undefined ? `last ${spec.last} (${rows.length} of ${table.labels.length} rows)` : undefined,
    },
  };
}

/**
 * The last table read, while its files are unchanged: a job with a key column trains one model per key
 * from the same files, and parsing them once per key would cost a full pass each time.
 */
let shared: { signature: string; table: CsvTable; rowsOfKey?: Map<string, number[]> } | undefined;

async function readShared(files: string[], choice: ColumnChoice, keyColumn: string | undefined) {
  const signature = JSON.stringify({ choice, keyColumn, files: files.map((file) => [file, fileFingerprint(file)]) });
  if (shared?.signature !== signature) {
    shared = undefined; // let the old table go before reading the new one
    const table = await readCsvTable(files, choice);
    let rowsOfKey: Map<string, number[]> | undefined;
    if (keyColumn) {
      rowsOfKey = new Map();
      table.kept[keyColumn]!.forEach((key, row) => {
        const rows = rowsOfKey!.get(key);
        if (rows) rows.push(row);
        else rowsOfKey!.set(key, [row]);
      });
    }
    shared = { signature, table, rowsOfKey };
  }
  return shared;
}

/** A CSV file, or the CSV files of a folder and its subfolders, in natural order. */
export function csvFilesIn(path: string): string[] {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch {
    throw new EdgetrainError("data_invalid", `${path} does not exist`, { details: { path } });
  }
  if (stats.isFile()) return [path];
  return readdirSync(path, { recursive: true })
    .map(String)
    .filter(isDataFile)
    .sort(naturalOrder)
    .map((name) => join(path, name));
}

/** ISO 8601 text, or epoch seconds / milliseconds. */
export function parseTime(text: string): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) {
    const value = Number(trimmed);
    return value < 1e11 ? value * 1000 : value;
  }
  return Date.parse(trimmed);
}

export function tableOf(csv: CsvTable): DataTable {
  return { featureNames: csv.featureNames, x: csv.x, rows: csv.labels.length, labels: csv.labels };
}

function subset(csv: CsvTable, rows: number[]): DataTable {
  if (rows.length === csv.labels.length) return tableOf(csv);
  const width = csv.featureNames.length;
  const x = new Float32Array(rows.length * width);
  rows.forEach((row, i) => x.set(csv.x.subarray(row * width, (row + 1) * width), i * width));
  return { featureNames: csv.featureNames, x, rows: rows.length, labels: rows.map((row) => csv.labels[row]!) };
}
