import type { BatchPredictions, ScoreBatch, ScoringModel } from "../../runtime/plugin-api.ts";
import { RowBytes } from "./row-bytes.ts";

export interface RowFormat {
  kind: "csv" | "jsonl";
  /** Input columns copied into each row. */
  columns: readonly string[];
  /** Classification: each class's probability too. */
  probabilities: boolean;
}

export interface PredictionRows {
  /** The CSV header line; nothing for JSON lines. */
  header(): string;
  /** A batch's rows as UTF-8, each ending in a newline; valid until the next call. */
  batch(batch: ScoreBatch, predicted: BatchPredictions): Uint8Array;
}

/**
 * Rows of predictions in CSV or JSON lines: the input's line, the columns asked for, the prediction, model
 * and version. Written as bytes into one reused buffer: a string per row costs more than the model does.
 */
export function predictionRows(format: RowFormat, model: ScoringModel): PredictionRows {
  const classes = format.probabilities && model.task === "classification" ? model.classes : [];
  return format.kind === "csv" ? csvRows(format, model, classes) : jsonRows(format, model, classes);
}

function csvRows(format: RowFormat, model: ScoringModel, classes: string[]): PredictionRows {
  const out = new RowBytes();
  const tail = RowBytes.encode(`,${csvCell(model.name)},${model.version}\n`);
  const names = ["line", ...format.columns, "prediction", ...classes.map((name) => `p_${name}`), "model", "version"];
  const labelBytes = new Map<string, Uint8Array>();
  return {
    header: () => `${names.map(csvCell).join(",")}\n`,
    batch(batch, predicted) {
      out.reset();
      const columns = format.columns.map((name) => batch.columns[name]!);
      const { labels, values } = predicted;
      for (let i = 0; i < batch.rows; i++) {
        out.uint(batch.lines[i]!);
        for (const column of columns) {
          out.byte(COMMA);
          out.text(csvCell(column[i]!));
        }
        out.byte(COMMA);
        if (labels) out.bytes(cached(labelBytes, labels[i]!, csvCell));
        else out.ascii(significant(values![i]!));
        for (let k = 0; k < classes.length; k++) {
          out.byte(COMMA);
          out.fixed6(predicted.probabilities?.[i * classes.length + k]);
        }
        out.bytes(tail);
      }
      return out.view();
    },
  };
}

function jsonRows(format: RowFormat, model: ScoringModel, classes: string[]): PredictionRows {
  const out = new RowBytes();
  const tail = RowBytes.encode(`,"model":${JSON.stringify(model.name)},"version":${model.version}}\n`);
  const keys = format.columns.map((name) => RowBytes.encode(`,${JSON.stringify(name)}:`));
  const classKeys = classes.map((name, k) => RowBytes.encode(`${k === 0 ? "" : ","}${JSON.stringify(name)}:`));
  const lineKey = RowBytes.encode(`{"line":`);
  const predictionKey = RowBytes.encode(`,"prediction":`);
  const probabilitiesKey = RowBytes.encode(`,"probabilities":{`);
  const labelBytes = new Map<string, Uint8Array>();
  return {
    header: () => "",
    batch(batch, predicted) {
      out.reset();
      const columns = format.columns.map((name) => batch.columns[name]!);
      const { labels, values } = predicted;
      for (let i = 0; i < batch.rows; i++) {
        out.bytes(lineKey);
        out.uint(batch.lines[i]!);
        for (let c = 0; c < columns.length; c++) {
          out.bytes(keys[c]!);
          out.text(JSON.stringify(columns[c]![i]));
        }
        out.bytes(predictionKey);
        if (labels) out.bytes(cached(labelBytes, labels[i]!, JSON.stringify));
        else out.ascii(significant(values![i]!) || "null");
        if (classes.length > 0) {
          out.bytes(probabilitiesKey);
          for (let k = 0; k < classes.length; k++) {
            out.bytes(classKeys[k]!);
            const value = predicted.probabilities?.[i * classes.length + k];
            if (value === undefined || !Number.isFinite(value)) out.ascii("null");
            else out.fixed6(value);
          }
          out.byte(CLOSE_BRACE);
        }
        out.bytes(tail);
      }
      return out.view();
    },
  };
}

const COMMA = 44;
const CLOSE_BRACE = 125;

/** A class name's bytes as the format writes it: a classifier has few classes and millions of rows. */
function cached(cache: Map<string, Uint8Array>, label: string, write: (text: string) => string): Uint8Array {
  let bytes = cache.get(label);
  if (!bytes) cache.set(label, (bytes = RowBytes.encode(write(label))));
  return bytes;
}

/** A cell quoted where it holds a comma, quote or line break, as CSV readers expect. */
function csvCell(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

// Powers of ten up to 1e22 are exact doubles: a value scaled by one rounds once.
const POW10 = Float64Array.from({ length: 23 }, (_, i) => 10 ** i);

/** A float32 value to 7 significant digits, its own precision, without the digits a double adds; "" for none. */
function significant(value: number): string {
  if (!Number.isFinite(value)) return "";
  if (value === 0) return "0";
  const shift = 6 - Math.floor(Math.log10(Math.abs(value)));
  if (shift >= 0 && shift <= 22) return String(Math.round(value * POW10[shift]!) / POW10[shift]!);
  if (shift < 0 && shift >= -22) return String(Math.round(value / POW10[-shift]!) * POW10[-shift]!);
  return String(value);
}
