import { open } from "node:fs/promises";
import { relative } from "node:path";
import { EdgetrainError } from "../errors.ts";
import { ChunkReader, DEFAULT_CHUNK_BYTES } from "./csv-chunks.ts";
import { readHead } from "./csv-head.ts";
import { checkHeader, decideLayout, rolesOf } from "./csv-layout.ts";
import { RowReader } from "./csv-rows.ts";
import { type ColumnChoice, dataError } from "./csv-table.ts";
import { FloatBuilder } from "./float-builder.ts";

export interface BatchOptions {
  /** Rows per batch (default 8192): with the chunk, what the read holds, whatever the file's size. */
  batchRows?: number;
  /** Bytes read at a time (default 1 MiB); the buffer grows past it only for a record longer than that. */
  chunkBytes?: number;
}

/**
 * Up to `batchRows` rows of a file. Its arrays are reused for the next batch: use them (or copy them)
 * before asking for it.
 */
export interface CsvBatch {
  featureNames: string[];
  /** Row-major, rows × featureNames.length. */
  x: Float32Array;
  rows: number;
  /** The line each row starts on, in the file. */
  lines: Uint32Array;
  /** Values of the `keep` columns, per row. */
  kept: Record<string, string[]>;
  /** Rows skipped under `skip-row` since the last batch, with why. */
  skipped: string[];
  /** Bytes of the file parsed so far, and its size: progress. */
  bytesRead: number;
  fileBytes: number;
}

/** What a batched read held: the largest read buffer and the batch's float buffer, whatever the file's size. */
export interface BatchReadStats {
  bufferBytes: number;
  batchBytes: number;
  batches: number;
  rows: number;
}

/**
 * Reads one CSV file in batches of rows, for files larger than memory (batch scoring): the same byte parser
 * as `readCsvTable`, with the same columns, quoting, bad-cell rules and messages, but the table never grows
 * past `batchRows`. The generator's return value says what the read held.
 */
export async function* readCsvBatches(
  file: string,
  choice: ColumnChoice,
  options: BatchOptions = {},
): AsyncGenerator<CsvBatch, BatchReadStats> {
  const batchRows = Math.max(1, options.batchRows ?? 8192);
  const shown = choice.displayRoot ? relative(choice.displayRoot, file) : file;
  const stats: BatchReadStats = { bufferBytes: 0, batchBytes: 0, batches: 0, rows: 0 };
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(file, "r");
    const fileBytes = (await handle.stat()).size;
    const chunks = new ChunkReader(handle, options.chunkBytes ?? DEFAULT_CHUNK_BYTES);
    const head = await readHead(chunks, choice.features ? 0 : 64);
    if (!head.header)
      throw new EdgetrainError("data_invalid", `${shown} is empty: no header row`, { details: { file } });
    checkHeader(head.header, choice, shown, file);
    const layout = decideLayout(head.header, head.sample, choice);
    const x = new FloatBuilder(layout.features.length, batchRows);
    const rows = new RowReader(x, {
      features: layout.features,
      label: choice.label,
      keep: layout.keep,
      onBadCell: choice.onBadCell,
      allowMissingLabel: choice.allowMissingLabel ?? false,
      expectedBytes: 0,
    });
    rows.rowLimit = batchRows;
    rows.lineOfRow = new Uint32Array(batchRows);
    rows.startFile(rolesOf(head.header, layout, choice, shown, file), shown, file, head.dataLine);
    stats.batchBytes = x.data.byteLength;
    const batch = (bytesRead: number): CsvBatch => {
      stats.batches++;
      stats.rows += x.rows;
      stats.bufferBytes = Math.max(stats.bufferBytes, chunks.capacity);
      const skipped = rows.skipped.splice(0);
      const kept = Object.fromEntries(layout.keep.map((name, k) => [name, rows.kept[k]!]));
      const lines = rows.lineOfRow!.subarray(0, x.rows);
      return { featureNames: layout.features, x: x.finish(), rows: x.rows, lines, kept, skipped, bytesRead, fileBytes };
    };
    const empty = () => {
      x.rows = 0;
      rows.labels.length = 0;
      for (const column of rows.kept) column.length = 0;
    };
    let pos = head.dataStart;
    for (;;) {
      pos = rows.parse(chunks.buf, pos, chunks.limit, chunks.atEnd);
      if (x.rows >= batchRows) {
        yield batch(Math.min(fileBytes, chunks.fileOffset(pos)));
        empty();
        continue;
      }
      if (!(await chunks.refill(pos))) break;
      pos = 0;
    }
    if (x.rows > 0 || rows.skipped.length > 0) yield batch(fileBytes);
    stats.bufferBytes = Math.max(stats.bufferBytes, chunks.capacity);
    return stats;
  } catch (error) {
    throw dataError(error, shown, file);
  } finally {
    await handle?.close();
  }
}
