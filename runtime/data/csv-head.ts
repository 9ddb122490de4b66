import {
  afterTerminator,
  COMMA,
  CR,
  CsvSyntaxError,
  decodeText,
  LF,
  QUOTE,
  quoted,
  readQuoted,
  unquotedEnd,
} from "./csv-bytes.ts";
import type { ChunkReader } from "./csv-chunks.ts";

/** The header and first rows of a file, as text: enough to decide which columns are numeric. */
export interface Head {
  /** Undefined for a file with no records at all. */
  header?: string[];
  sample: string[][];
  /** Where the data rows start in the chunk buffer, and on which line. */
  dataStart: number;
  dataLine: number;
  /** Bytes the sample rows took, for estimating the row count. */
  sampleBytes: number;
}

const BOM = [0xef, 0xbb, 0xbf];

/**
 * Reads the header and up to `sampleRows` rows. The rows stay in the buffer for the row reader when they fit
 * in it; otherwise the reader goes back to them in the file, so that the sample never grows the buffer.
 */
export async function readHead(chunks: ChunkReader, sampleRows: number): Promise<Head> {
  const head: Head = { sample: [], dataStart: 0, dataLine: 1, sampleBytes: 0 };
  if (!(await chunks.refill(0))) return head;
  let pos = BOM.every((byte, i) => chunks.buf[i] === byte) ? BOM.length : 0;
  let line = 1;
  let dataOffset = 0;
  let kept = true;
  while (head.sample.length < sampleRows || !head.header) {
    const record = recordAt(chunks.buf, pos, chunks.limit, chunks.atEnd, line);
    if (!record) {
      if (chunks.atEnd && pos >= chunks.limit) break;
      // Keep the rows read so far while there is room for more beside them.
      if (kept && head.header && chunks.held - head.dataStart >= chunks.capacity / 2) kept = false;
      const keepFrom = kept && head.header ? head.dataStart : pos;
      if (!(await chunks.refill(keepFrom))) break;
      pos -= keepFrom;
      head.dataStart -= keepFrom;
      continue;
    }
    head.sampleBytes += head.header ? record.end - pos : 0;
    pos = record.end;
    line += record.lines;
    if (record.fields.length === 0) continue; // an empty line
    if (!head.header) {
      head.header = record.fields.map((name) => name.trim());
      head.dataStart = pos;
      head.dataLine = line;
      dataOffset = chunks.fileOffset(pos);
    } else head.sample.push(record.fields);
  }
  if (head.header && !kept) {
    chunks.rewind(dataOffset);
    await chunks.refill(0);
    head.dataStart = 0;
  }
  return head;
}

/** One record at `pos` as text, or undefined when it does not end before `limit`. */
function recordAt(
  buf: Uint8Array,
  pos: number,
  limit: number,
  atEnd: boolean,
  line: number,
): { fields: string[]; end: number; lines: number } | undefined {
  if (pos >= limit) return undefined;
  if (buf[pos] === LF || buf[pos] === CR) return { fields: [], end: afterTerminator(buf, pos), lines: 1 };
  const fields: string[] = [];
  let lines = 0;
  for (;;) {
    if (buf[pos] === QUOTE) {
      const end = readQuoted(buf, pos, limit, line + lines, fields.length + 1);
      if (end < 0) {
        if (atEnd)
          throw new CsvSyntaxError(
            "a quoted field is not closed before the end of the file",
            line + lines,
            fields.length + 1,
          );
        return undefined;
      }
      fields.push(quoted.text);
      lines += quoted.lines;
      pos = end;
    } else {
      const end = unquotedEnd(buf, pos, line + lines, fields.length + 1);
      fields.push(decodeText(buf, pos, end));
      pos = end;
    }
    if (buf[pos] === COMMA) {
      pos++;
      continue;
    }
    return { fields, end: afterTerminator(buf, pos), lines: lines + 1 };
  }
}
