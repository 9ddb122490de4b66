import { EdgetrainError } from "../errors.ts";
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
import type { ColumnRoles } from "./csv-layout.ts";
import { fitsFloat32, numberEnd, numberOfText, plainNumber } from "./csv-number.ts";
import type { BadCellPolicy } from "./csv-table.ts";
import type { FloatBuilder } from "./float-builder.ts";
import { LabelInterner } from "./label-interner.ts";

export interface RowOptions {
  features: readonly string[];
  label: string;
  keep: readonly string[];
  onBadCell: BadCellPolicy;
  /** No label column: every label is "". */
  allowMissingLabel: boolean;
  /** Bytes of all the files, for sizing the table. */
  expectedBytes: number;
}

const NONE = 0x7fffffff;

/**
 * Turns the data rows of CSV files into float32 features, labels and kept columns, straight from the bytes:
 * a numeric cell becomes a float without becoming a string, unless it is quoted or not a plain decimal.
 * Bad rows fail the read or are skipped, as `onBadCell` says, with file, line and column.
 */
export class RowReader {
  /** The line of the next byte to parse. */
  line = 1;
  readonly labels: string[] = [];
  readonly kept: string[][];
  readonly skipped: string[] = [];
  /**
   * Batches: parse() stops at the start of a record once the table holds this many rows, so the table never
   * grows; a batch reader hands the rows on, empties the table and parses on from there.
   */
  rowLimit = Infinity;
  /** Batches: the line each kept row starts on, by row (rowLimit rows long). */
  lineOfRow?: Uint32Array;
  private readonly rowTexts: string[];
  private readonly interner = new LabelInterner();
  private roles!: ColumnRoles;
  private lastFeatureColumn = -1;
  private shown = "";
  private file = "";
  private bytesParsed = 0;
  private records = 0;
  /** The first bad feature of the current row, in feature order as the message names the first. */
  private badSlot = NONE;
  private badText = "";
  private badLine = 0;

  constructor(
    readonly x: FloatBuilder,
    private readonly options: RowOptions,
  ) {
    this.kept = options.keep.map(() => []);
    this.rowTexts = new Array(1 + options.keep.length).fill("");
  }

  /** The next file: its column roles, its name as shown in messages, and the line its rows start on. */
  startFile(roles: ColumnRoles, shown: string, file: string, line: number): void {
    this.roles = roles;
    this.lastFeatureColumn = roles.columnOfFeature.reduce((a, b) => Math.max(a, b), -1);
    this.shown = shown;
    this.file = file;
    this.line = line;
  }

  /**
   * Parses the records in `buf[pos, limit)`, which ends in LF; returns where it stopped: `limit`, the start of
   * a record whose quoted field runs past it (read more and call again from there), or the start of the
   * record after the `rowLimit`-th row.
   */
  parse(buf: Uint8Array, pos: number, limit: number, atEnd: boolean): number {
    const { featureSlot, textSlot } = this.roles;
    const roleColumns = featureSlot.length;
    const width = this.x.width;
    const texts = this.rowTexts;
    const hasLabel = !this.options.allowMissingLabel;
    let line = this.line;
    let rows = this.x.rows;
    let capacity = this.x.capacityRows;
    while (pos < limit) {
      let c = buf[pos]!;
      if (c === LF || c === CR) {
        // An empty line, skipped as csv-parse's skip_empty_lines did.
        pos = afterTerminator(buf, pos);
        line++;
        continue;
      }
      if (rows >= this.rowLimit) break;
      const recordStart = pos;
      const recordLine = line;
      if (rows === capacity) {
        this.grow();
        capacity = this.x.capacityRows;
      }
      const x = this.x.data;
      const base = rows * width;
      for (let t = 0; t < texts.length; t++) texts[t] = "";
      let label = "";
      let labelLine = 0;
      this.badSlot = NONE;
      let column = 0;
      for (;;) {
        const slot = column < roleColumns ? featureSlot[column]! : -1;
        const text = column < roleColumns ? textSlot[column]! : -1;
        c = buf[pos]!;
        if (c === QUOTE) {
          const end = this.quotedField(buf, pos, limit, atEnd, line, column);
          if (end < 0) {
            this.line = recordLine;
            return recordStart;
          }
          const cellLine = line;
          line += quoted.lines;
          pos = end;
          if (slot >= 0) {
            const value = numberOfText(quoted.text);
            if (fitsFloat32(value)) x[base + slot] = value;
            else this.noteBad(slot, quoted.text, cellLine);
          }
          if (text >= 0) texts[text] = quoted.text;
          if (text === 0) {
            label = quoted.text.trim();
            labelLine = cellLine;
          }
        } else if (slot >= 0) {
          const value = plainNumber(buf, pos);
          // NaN: not a plain decimal, so Number() on the cell's text decides, as it always did.
          if (value === value) {
            x[base + slot] = value;
            if (text >= 0) texts[text] = decodeText(buf, pos, numberEnd.pos);
            pos = numberEnd.pos;
          } else {
            const end = unquotedEnd(buf, pos, line, column + 1);
            const cell = decodeText(buf, pos, end);
            const slow = numberOfText(cell);
            if (fitsFloat32(slow)) x[base + slot] = slow;
            else this.noteBad(slot, cell, line);
            if (text >= 0) texts[text] = cell;
            pos = end;
          }
          if (text === 0) {
            label = texts[0]!.trim();
            labelLine = line;
          }
        } else {
          const end = unquotedEnd(buf, pos, line, column + 1);
          if (text === 0) {
            const entry = this.interner.intern(buf, pos, end);
            texts[0] = entry.raw;
            label = entry.trimmed;
            labelLine = line;
          } else if (text > 0) texts[text] = decodeText(buf, pos, end);
          pos = end;
        }
        column++;
        c = buf[pos]!;
        if (c === COMMA) {
          pos++;
          continue;
        }
        pos = afterTerminator(buf, pos);
        line++;
        break;
      }
      this.bytesParsed += pos - recordStart;
      this.records++;
      const lastLine = line - 1;
      if (column > roleColumns) {
        // Checked before the cells: the extra fields mean the row's cells may not be in the columns named.
        this.reject(`${this.shown} line ${lastLine}: expected ${roleColumns} fields, got ${column}`, {
          line: lastLine,
          columnNumber: roleColumns + 1,
          expected: roleColumns,
          found: column,
        });
        continue;
      }
      if (column <= this.lastFeatureColumn) {
        // A short row: the cells it lacks are empty, on the record's last line.
        const columns = this.roles.columnOfFeature;
        for (let s = 0; s < columns.length; s++) if (columns[s]! >= column) this.noteBad(s, "", lastLine);
      }
      if (this.badSlot !== NONE) {
        const name = this.options.features[this.badSlot]!;
        const what = this.badProblem(this.badText);
        this.reject(`${this.shown} line ${this.badLine}: column ${name} ${what}`, {
          line: this.badLine,
          column: name,
          columnNumber: this.roles.columnOfFeature[this.badSlot]! + 1,
        });
        continue;
      }
      if (hasLabel && label === "") {
        if (labelLine === 0) labelLine = lastLine;
        this.reject(`${this.shown} line ${labelLine}: column ${this.options.label} is empty`, {
          line: labelLine,
          column: this.options.label,
          columnNumber: this.roles.textSlot.indexOf(0) + 1,
        });
        continue;
      }
      for (const [from, to] of this.roles.featureCopies) x[base + to] = x[base + from]!;
      for (const [from, to] of this.roles.textCopies) texts[to] = texts[from]!;
      this.labels.push(label);
      for (let k = 0; k < this.kept.length; k++) this.kept[k]!.push(texts[k + 1]!);
      if (this.lineOfRow) this.lineOfRow[rows] = recordLine;
      this.x.rows = ++rows;
    }
    this.line = line;
    return pos;
  }

  /** What is wrong with a bad cell, worked out again from its text: only a rejected row pays for it. */
  private badProblem(text: string): string {
    if (text.trim() === "") return "is empty";
    // A number too large even for a double (1e400) reads as Infinity too; only the word Infinity lacks digits.
    const value = numberOfText(text);
    if (value === value && /[0-9]/.test(text)) return `is past float32's range (±3.4e38): "${text}"`;
    return `is not a number: "${text}"`;
  }

  private noteBad(slot: number, text: string, line: number): void {
    if (slot >= this.badSlot) return;
    this.badSlot = slot;
    this.badText = text;
    this.badLine = line;
  }

  private quotedField(
    buf: Uint8Array,
    pos: number,
    limit: number,
    atEnd: boolean,
    line: number,
    column: number,
  ): number {
    const end = readQuoted(buf, pos, limit, line, column + 1);
    if (end < 0 && atEnd)
      throw new CsvSyntaxError("a quoted field is not closed before the end of the file", line, column + 1);
    return end;
  }

  /** A bad row fails the read or is skipped, as `onBadCell` says; `where` joins the file in the error's details. */
  private reject(problem: string, where: { line: number; columnNumber: number } & Record<string, unknown>): void {
    if (this.options.onBadCell === "fail") {
      throw new EdgetrainError("data_invalid", problem, {
        details: { file: this.file, ...where },
        hint: "fix the file, or set on_bad_cell: skip-row",
      });
    }
    this.skipped.push(problem);
  }

  /** Room for the rows still to come, estimated from the bytes left and the bytes per row so far. */
  private grow(): void {
    const rows = this.x.rows;
    const bytesPerRow = this.records > 0 ? this.bytesParsed / this.records : 64;
    const rowsLeft = Math.max(0, this.options.expectedBytes - this.bytesParsed) / bytesPerRow;
    this.x.reserve(Math.max(rows * 1.25, rows + rowsLeft * 1.1) + 1024);
  }
}
