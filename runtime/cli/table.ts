import type { Output } from "./command.ts";

/** Columns padded to their widest cell, two spaces apart; the last column runs free. The first row is the header. */
export function writeTable(out: Output, rows: string[][]): void {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  for (const row of rows) out.write(row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join("  ") + "\n");
}

/** `accuracy 0.812, f1 0.774` */
export function metricsText(metrics: Record<string, number> | null | undefined): string {
  return Object.entries(metrics ?? {}).map(([name, value]) => `${name} ${value.toFixed(3)}`).join(", ");
}
