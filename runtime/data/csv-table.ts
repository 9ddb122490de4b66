import { parse } from "csv-parse";
import { createReadStream } from "node:fs";
import { relative } from "node:path";
import { EdgetrainError } from "../errors.ts";
import { FloatBuilder } from "./float-builder.ts";

export type BadCellPolicy = "skip-row" | "fail";

export interface ColumnChoice {
  /** Label column (default `label`); not a feature. */
  label: string;
  /** Use exactly these feature columns, in this order. */
  features?: readonly string[];
  /** Leave these columns out. */
  exclude?: readonly string[];
  /** Columns kept aside, not features: a timestamp for windows, a key column. */
  keep?: readonly string[];
  onBadCell: BadCellPolicy;
  /** For prediction: the label column may be absent; labels are then empty strings. */
  allowMissingLabel?: boolean;
  /** File names in messages are shown relative to this folder. */
  displayRoot?: string;
}

/** Rows read from CSV files: features as float32, labels as text (typed later by the task). */
export interface CsvTable {
  featureNames: string[];
  /** Non-numeric columns left out automatically, for the run summary. */
  excludedColumns: string[];
  /** Row-major, rows × featureNames.length. */
  x: Float32Array;
  labels: string[];
  /** Values of the `keep` columns, per row. */
  kept: Record<string, string[]>;
  /** The file each row came from (index into `files`). */
  fileOfRow: Uint32Array;
  files: string[];
  /** Rows skipped under `skip-row`, with why: `player_3/TR2.csv line 418: column hr is empty`. */
  skipped: string[];
}

const SAMPLE_ROWS = 64;

/**
 * Reads CSV files with one header (the first file's) into a table. Which columns are numeric is decided
 * from the first rows; after that an empty or non-numeric cell in a numeric column is an error naming
 * file, line and column, or a skipped row.
 */
export async function readCsvTable(files: readonly string[], choice: ColumnChoice): Promise<CsvTable> {
  if (files.length === 0) throw new EdgetrainError("data_invalid", "no data files to read");
  const x = new FloatBuilder();
  const labels: string[] = [];
  const kept: Record<string, string[]> = Object.fromEntries((choice.keep ?? []).map((name) => [name, []]));
  const fileOfRow: number[] = [];
  const skipped: string[] = [];
  let layout: Layout | undefined;
  for (const [fileIndex, file] of files.entries()) {
    const shown = choice.displayRoot ? relative(choice.displayRoot, file) : file;
    const sample: Array<{ record: string[]; line: number }> = [];
    let header: string[] | undefined;
    let indexes: number[] | undefined;
    const take = (record: string[], line: number) => {
      const started = x.length;
      for (let i = 0; i < layout!.features.length; i++) {
        const cell = record[indexes![i]!] ?? "";
        const value = cell.trim() === "" ? NaN : Number(cell);
        if (!Number.isFinite(value)) {
          const problem = `${shown} line ${line}: column ${layout!.features[i]} ${cell.trim() === "" ? "is empty" : `is not a number: "${cell}"`}`;
          if (choice.onBadCell === "fail") throw new EdgetrainError("data_invalid", problem, { details: { file, line, column: layout!.features[i] }, hint: "fix the file, or set on_bad_cell: skip-row" });
          x.truncate(x.length - started);
          skipped.push(problem);
          return;
        }
        x.push(value);
      }
      const label = choice.allowMissingLabel ? "" : (record[indexes![layout!.features.length]!] ?? "");
      if (label.trim() === "" && !choice.allowMissingLabel) {
        const problem = `${shown} line ${line}: column ${choice.label} is empty`;
        if (choice.onBadCell === "fail") throw new EdgetrainError("data_invalid", problem, { details: { file, line, column: choice.label } });
        x.truncate(x.length - started);
        skipped.push(problem);
        return;
      }
      labels.push(label.trim());
      layout!.keep.forEach((name, i) => kept[name]!.push(record[indexes![layout!.features.length + 1 + i]!] ?? ""));
      fileOfRow.push(fileIndex);
    };
    const parser = createReadStream(file).pipe(parse({ info: true, relax_column_count: true, skip_empty_lines: true, trim: false, bom: true }));
    try {
      for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
        if (!header) {
          header = record.map((name) => name.trim());
          checkHeader(header, choice, shown, file);
          continue;
        }
        if (!layout || !indexes) {
          sample.push({ record, line: info.lines });
          if (sample.length < SAMPLE_ROWS) continue;
          layout ??= decideLayout(header, sample.map((s) => s.record), choice);
          indexes = indexesOf(header, layout, choice.label, shown, file);
          for (const row of sample) take(row.record, row.line);
          continue;
        }
        take(record, info.lines);
      }
    } catch (error) {
      if (error instanceof EdgetrainError) throw error;
      throw new EdgetrainError("data_invalid", `${shown}: ${(error as Error).message}`, { details: { file } });
    }
    if (!header) throw new EdgetrainError("data_invalid", `${shown} is empty: no header row`, { details: { file } });
    if (!indexes) {
      if (sample.length === 0 && !layout) throw new EdgetrainError("data_invalid", `${shown} has a header but no rows`, { details: { file } });
      layout ??= decideLayout(header, sample.map((s) => s.record), choice);
      indexes = indexesOf(header, layout, choice.label, shown, file);
      for (const row of sample) take(row.record, row.line);
    }
  }
  if (!layout) throw new EdgetrainError("data_invalid", "no rows in the data files");
  return { featureNames: layout.features, excludedColumns: layout.excluded, x: x.finish(), labels, kept, fileOfRow: Uint32Array.from(fileOfRow), files: [...files], skipped };
}

interface Layout {
  features: string[];
  excluded: string[];
  keep: string[];
}

function checkHeader(header: string[], choice: ColumnChoice, shown: string, file: string): void {
  const missing = [...(choice.allowMissingLabel ? [] : [choice.label]), ...(choice.features ?? []), ...(choice.keep ?? [])].filter((name) => !header.includes(name));
  if (missing.length) {
    throw new EdgetrainError("data_invalid", `${shown} line 1: no column ${missing.map((m) => `"${m}"`).join(", ")}; the header has ${header.join(", ")}`, { details: { file, line: 1, columns: missing } });
  }
}

function decideLayout(header: string[], sample: string[][], choice: ColumnChoice): Layout {
  const keep = [...(choice.keep ?? [])];
  const reserved = new Set([choice.label, ...keep, ...(choice.exclude ?? [])]);
  if (choice.features) return { features: [...choice.features], excluded: [], keep };
  const features: string[] = [];
  const excluded: string[] = [];
  header.forEach((name, index) => {
    if (reserved.has(name)) return;
    const values = sample.map((row) => (row[index] ?? "").trim()).filter((cell) => cell !== "");
    if (values.length > 0 && values.every((cell) => Number.isFinite(Number(cell)))) features.push(name);
    else excluded.push(name);
  });
  return { features, excluded, keep };
}

/** Column positions in this file's header: the features, then the label, then the kept columns. */
function indexesOf(header: string[], layout: Layout, label: string, shown: string, file: string): number[] {
  return [...layout.features, label, ...layout.keep].map((name, i) => {
    const index = header.indexOf(name);
    if (i === layout.features.length && index < 0) return -1; // no label column: prediction input
    if (index < 0) throw new EdgetrainError("data_invalid", `${shown} line 1: no column "${name}" (the first file has it)`, { details: { file, line: 1, column: name } });
    return index;
  });
}
