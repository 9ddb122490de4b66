import type { Output } from "./command.ts";

/** Narrowest a column is cut to; its header stays whole too. */
const MIN_COLUMN = 4;

/**
 * Columns padded to their widest cell, two spaces apart; the last column runs free. The first row is the
 * header. On a terminal the table fits its width, cells cut with "…": the last column first (free text:
 * metrics, outcome, options), then the widest of the others. The first column names the row (a run id to
 * cancel, a model to activate) and is never cut. Into a pipe or a file nothing is cut, so scripts and grep
 * see whole values.
 */
export function writeTable(out: Output, rows: string[][]): void {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => Bun.stringWidth(row[column]!))));
  if (out.isTTY && out.columns) fitColumns(widths, rows[0]!, out.columns);
  for (const row of rows) {
    const cells = row.map((cell, column) => {
      const text = cut(cell, widths[column]!);
      return column === row.length - 1 ? text : text + " ".repeat(widths[column]! - Bun.stringWidth(text));
    });
    out.write(`${cells.join("  ")}\n`);
  }
}

/** Narrows `widths` in place until the row fits `columns` or every column is at its floor. */
function fitColumns(widths: number[], header: string[], columns: number): void {
  const floor = widths.map((width, column) =>
    column === 0 ? width : Math.min(width, Math.max(MIN_COLUMN, Bun.stringWidth(header[column]!))),
  );
  let total = widths.reduce((sum, width) => sum + width, 0) + 2 * (widths.length - 1);
  const last = widths.length - 1;
  const fromLast = Math.min(total - columns, widths[last]! - floor[last]!);
  if (fromLast > 0) {
    widths[last]! -= fromLast;
    total -= fromLast;
  }
  while (total > columns) {
    let widest = -1;
    for (let column = 0; column < widths.length; column++)
      if (widths[column]! > floor[column]! && (widest < 0 || widths[column]! > widths[widest]!)) widest = column;
    if (widest < 0) return;
    widths[widest]!--;
    total--;
  }
}

function cut(cell: string, width: number): string {
  if (Bun.stringWidth(cell) <= width) return cell;
  let text = "";
  for (const char of cell) {
    if (Bun.stringWidth(text + char) > width - 1) break;
    text += char;
  }
  return `${text}…`;
}

/** `accuracy 0.812, f1 0.774` */
export function metricsText(metrics: Record<string, number> | null | undefined, digits = 3): string {
  // Counts (a score run's rows, files, version) read as counts; scores keep their digits.
  const text = (value: number) => (Number.isInteger(value) ? String(value) : value.toFixed(digits));
  return Object.entries(metrics ?? {})
    .map(([name, value]) => `${name} ${text(value)}`)
    .join(", ");
}
