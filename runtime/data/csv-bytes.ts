/** Byte-level pieces of CSV shared by the header reader and the row reader: fields are found without strings. */

export const COMMA = 44;
export const LF = 10;
export const CR = 13;
export const QUOTE = 34;

/** Bytes that end an unquoted field (or, for a quote, make it malformed). */
const STOPS = new Uint8Array(256);
STOPS[COMMA] = STOPS[LF] = STOPS[CR] = STOPS[QUOTE] = 1;

/** A CSV file that does not follow the format, at a line and column of the file. */
export class CsvSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly columnNumber: number,
  ) {
    super(message);
  }
}

/**
 * The end of the unquoted field starting at `pos`: the comma, CR or LF after it. A quote inside an
 * unquoted field is an error, as csv-parse had it. The data must hold an LF after `pos`.
 */
export function unquotedEnd(buf: Uint8Array, pos: number, line: number, column: number): number {
  while (STOPS[buf[pos]!] === 0) pos++;
  if (buf[pos] === QUOTE)
    throw new CsvSyntaxError(
      "a quote inside an unquoted field (quote the whole field, and double the quotes inside it)",
      line,
      column,
    );
  return pos;
}

/** The result of `readQuoted`: its text and how many line breaks it held. */
export const quoted = { text: "", lines: 0 };

/**
 * Reads the quoted field whose opening quote is at `pos` into `quoted`; returns the position after the closing
 * quote, or -1 when the field runs past `limit` (its end is in data not read yet).
 */
export function readQuoted(buf: Uint8Array, pos: number, limit: number, line: number, column: number): number {
  let doubled = false;
  let lines = 0;
  let at = pos + 1;
  for (;;) {
    const close = buf.indexOf(QUOTE, at);
    if (close < 0 || close >= limit) return -1;
    for (let i = at; i < close; i++) if (buf[i] === LF) lines++;
    if (buf[close + 1] === QUOTE) {
      doubled = true;
      at = close + 2;
      continue;
    }
    const next = buf[close + 1];
    if (next !== COMMA && next !== LF && next !== CR)
      throw new CsvSyntaxError("text after the closing quote of a field", line + lines, column);
    const text = decodeText(buf, pos + 1, close);
    quoted.text = doubled ? text.replaceAll('""', '"') : text;
    quoted.lines = lines;
    return close + 1;
  }
}

const utf8 = new TextDecoder();

/**
 * One cell's text. Never built by `+=` per byte: that makes a rope of one node per character, which a kept
 * column (a timestamp per row) holds until it is read, at several times the text's size.
 */
export function decodeText(buf: Uint8Array, start: number, end: number): string {
  return utf8.decode(buf.subarray(start, end));
}

/** The position after the record terminator at `pos`: CRLF, LF, or a CR alone (old Mac line ends). */
export function afterTerminator(buf: Uint8Array, pos: number): number {
  return buf[pos] === CR && buf[pos + 1] === LF ? pos + 2 : pos + 1;
}
