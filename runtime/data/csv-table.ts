import { statSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { relative } from "node:path";
import { EdgetrainError } from "../errors.ts";
import { CsvSyntaxError } from "./csv-bytes.ts";
import { ChunkReader, DEFAULT_CHUNK_BYTES } from "./csv-chunks.ts";
import { readHead } from "./csv-head.ts";
import { checkHeader, decideLayout, type Layout, rolesOf } from "./csv-layout.ts";
import { RowReader } from "./csv-rows.ts";
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

export interface ReadOptions {
  /** Bytes read at a time (default 1 MiB); the buffer grows past it only for a record longer than that. */
  chunkBytes?: number;
}

/** Rows read from CSV files: features as float32, labels as text (typed later by the task). */
export interface CsvTable {
  featureNames: string[];
  /** Non-numeric columns left out automatically, for the run summary. */
  excludedColumns: string[];
  /**
   * Row-major, rows × featureNames.length: a view on the start of the buffer reserved while reading, which may
   * be somewhat longer (a copy to trim it would double the peak). Structured cloning copies a view's whole
   * buffer, so post `x.slice()` to another thread, or transfer it.
   */
  x: Float32Array;
  labels: string[];
  /** Values of the `keep` columns, per row. */
  kept: Record<string, string[]>;
  /** The file each row came from (index into `files`). */
  fileOfRow: Uint32Array;
  files: string[];
  /** Rows skipped under `skip-row`, with why: `player_3/TR2.csv line 418: column hr is empty`. */
  skipped: string[];
  /** What the read held besides the table: the largest read buffer, and how often the table was copied to grow. */
  readStats: { bufferBytes: number; tableCopies: number };
}

const SAMPLE_ROWS = 64;

/**
 * Reads CSV files with one header (the first file's) into a table, streaming each file in chunks. Which
 * columns are numeric is decided from the first rows; after that an empty or non-numeric cell in a numeric
 * column is an error naming file, line and column, or a skipped row.
 */
export async function readCsvTable(
  files: readonly string[],
  choice: ColumnChoice,
  options: ReadOptions = {},
): Promise<CsvTable> {
  if (files.length === 0) throw new EdgetrainError("data_invalid", "no data files to read");
  const expectedBytes = files.reduce((sum, file) => sum + sizeOf(file), 0);
  let layout: Layout | undefined;
  let rows: RowReader | undefined;
  let bufferBytes = 0;
  const rowEnds: number[] = [];
  for (const file of files) {
    const shown = choice.displayRoot ? relative(choice.displayRoot, file) : file;
    let handle: FileHandle | undefined;
    try {
      handle = await open(file, "r");
      const chunks = new ChunkReader(handle, options.chunkBytes ?? DEFAULT_CHUNK_BYTES);
      const head = await readHead(chunks, layout ? 0 : SAMPLE_ROWS);
      if (!head.header)
        throw new EdgetrainError("data_invalid", `${shown} is empty: no header row`, { details: { file } });
      checkHeader(head.header, choice, shown, file);
      if (!layout) {
        if (head.sample.length === 0)
          throw new EdgetrainError("data_invalid", `${shown} has a header but no rows`, { details: { file } });
        layout = decideLayout(head.header, head.sample, choice);
        const rowsGuess = expectedBytes / Math.max(1, head.sampleBytes / head.sample.length);
        const x = new FloatBuilder(layout.features.length, Math.ceil(rowsGuess * 1.1) + 1024);
        rows = new RowReader(x, {
          features: layout.features,
          label: choice.label,
          keep: layout.keep,
          onBadCell: choice.onBadCell,
          allowMissingLabel: choice.allowMissingLabel ?? false,
          expectedBytes,
        });
      }
      rows!.startFile(rolesOf(head.header, layout, choice, shown, file), shown, file, head.dataLine);
      let pos = head.dataStart;
      for (;;) {
        pos = rows!.parse(chunks.buf, pos, chunks.limit, chunks.atEnd);
        if (!(await chunks.refill(pos))) break;
        pos = 0;
      }
      bufferBytes = Math.max(bufferBytes, chunks.capacity);
    } catch (error) {
      throw dataError(error, shown, file);
    } finally {
      await handle?.close();
    }
    rowEnds.push(rows!.x.rows);
  }
  const fileOfRow = new Uint32Array(rows!.x.rows);
  rowEnds.forEach((end, index) => fileOfRow.fill(index, index === 0 ? 0 : rowEnds[index - 1], end));
  return {
    featureNames: layout!.features,
    excludedColumns: layout!.excluded,
    x: rows!.x.finish(),
    labels: rows!.labels,
    kept: Object.fromEntries(layout!.keep.map((name, k) => [name, rows!.kept[k]!])),
    fileOfRow,
    files: [...files],
    skipped: rows!.skipped,
    readStats: { bufferBytes, tableCopies: rows!.x.copies },
  };
}

/** The header of a CSV file, read from its first chunk (and more only for a header longer than that). */
export async function readCsvHeader(file: string): Promise<string[]> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(file, "r");
    const head = await readHead(new ChunkReader(handle, 1 << 16), 0);
    if (!head.header)
      throw new EdgetrainError("data_invalid", `${file} is empty: no header row`, { details: { file } });
    return head.header;
  } catch (error) {
    if (error instanceof EdgetrainError) throw error;
    throw new EdgetrainError("data_invalid", `${file}: ${(error as Error).message}`, { details: { file } });
  } finally {
    await handle?.close();
  }
}

/** A read's failure as the user sees it: data_invalid naming the file, and the line and column where known. */
export function dataError(error: unknown, shown: string, file: string): EdgetrainError {
  if (error instanceof EdgetrainError) return error;
  if (error instanceof CsvSyntaxError) {
    const where = `${shown} line ${error.line}, column ${error.columnNumber}`;
    return new EdgetrainError("data_invalid", `${where}: ${error.message}`, {
      details: { file, line: error.line, columnNumber: error.columnNumber },
    });
  }
  return new EdgetrainError("data_invalid", `${shown}: ${(error as Error).message}`, { details: { file } });
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0; // reported when it is opened
  }
}
