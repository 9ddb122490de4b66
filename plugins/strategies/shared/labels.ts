import type { DataTable } from "../../../runtime/plugin-api.ts";

export type Task = "classification" | "regression";

/**
 * Classification when labels are text or few distinct integers (≤ 20), regression otherwise, unless the
 * job says. Scikit-learn leaves this to the user; a profile should not have to.
 */
export function inferTask(labels: readonly string[], asked: Task | "auto"): Task {
  if (asked !== "auto") return asked;
  const distinct = new Set<string>();
  for (const label of labels) {
    if (!/^-?\d+$/.test(label)) {
      if (!Number.isFinite(Number(label))) return "classification";
      return "regression";
    }
    distinct.add(label);
  }
  return distinct.size <= 20 ? "classification" : "regression";
}

/** Class names in a stable order: numeric when all are numbers, else by text. */
export function classNames(labels: readonly string[]): string[] {
  const names = [...new Set(labels)];
  return names.every((n) => Number.isFinite(Number(n))) ? names.sort((a, b) => Number(a) - Number(b)) : names.sort();
}

export function encodeClasses(table: DataTable, classes: readonly string[]): Uint8Array {
  const index = new Map(classes.map((name, i) => [name, i]));
  const out = new Uint8Array(table.rows);
  for (let i = 0; i < table.rows; i++) {
    const k = index.get(table.labels[i]!);
    // A class seen only in the test set cannot be predicted; 255 never matches a prediction.
    out[i] = k ?? 255;
  }
  return out;
}

export function encodeTargets(table: DataTable, what: string): Float32Array {
  const out = new Float32Array(table.rows);
  for (let i = 0; i < table.rows; i++) {
    const value = Number(table.labels[i]);
    if (!Number.isFinite(value))
      throw new Error(`${what} row ${i + 1}: label "${table.labels[i]}" is not a number (regression)`);
    out[i] = value;
  }
  return out;
}
