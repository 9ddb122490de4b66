import type { DataTable } from "../../../runtime/plugin-api.ts";
import { seededRandom } from "./random.ts";

/** The rows of `table` at `rows`, in that order. */
export function selectRows(table: DataTable, rows: ArrayLike<number>): DataTable {
  const width = table.featureNames.length;
  const x = new Float32Array(rows.length * width);
  const labels: string[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    x.set(table.x.subarray(row * width, row * width + width), i * width);
    labels[i] = table.labels[row]!;
  }
  return { featureNames: table.featureNames, x, rows: rows.length, labels };
}

/** A seeded random split: the same data and seed always hold out the same rows. */
export function splitByFraction(
  table: DataTable,
  testFraction: number,
  seed: number,
): { train: DataTable; test?: DataTable } {
  const testRows = Math.floor(table.rows * testFraction);
  if (testFraction <= 0 || testRows === 0 || testRows === table.rows) return { train: table };
  const order = Uint32Array.from({ length: table.rows }, (_, i) => i);
  const random = seededRandom(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = order[i]!;
    order[i] = order[j]!;
    order[j] = swap;
  }
  const test = order.subarray(0, testRows).sort();
  const train = order.subarray(testRows).sort();
  return { train: selectRows(table, train), test: selectRows(table, test) };
}
