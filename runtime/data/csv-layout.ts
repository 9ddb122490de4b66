import { EdgetrainError } from "../errors.ts";
import type { ColumnChoice } from "./csv-table.ts";

/** Which columns a table has: decided once, from the first file. */
export interface Layout {
  features: string[];
  /** Non-numeric columns left out automatically. */
  excluded: string[];
  keep: string[];
}

/** What each column of one file's header is for, by position. */
export interface ColumnRoles {
  /** Per column: the feature slot it fills, or -1. */
  featureSlot: Int32Array;
  /** Per column: 0 for the label, 1 + k for kept column k, or -1. */
  textSlot: Int32Array;
  /** Per feature slot: its column. */
  columnOfFeature: Int32Array;
  /** A column named twice (as two features, or as a feature and a kept column): [from slot, to slot]. */
  featureCopies: Array<[number, number]>;
  textCopies: Array<[number, number]>;
}

export function checkHeader(header: string[], choice: ColumnChoice, shown: string, file: string): void {
  const missing = [
    ...(choice.allowMissingLabel ? [] : [choice.label]),
    ...(choice.features ?? []),
    ...(choice.keep ?? []),
  ].filter((name) => !header.includes(name));
  if (missing.length) {
    throw new EdgetrainError(
      "data_invalid",
      `${shown} line 1: no column ${missing.map((m) => `"${m}"`).join(", ")}; the header has ${header.join(", ")}`,
      { details: { file, line: 1, columns: missing } },
    );
  }
}

/** Numeric columns are those whose non-empty cells in the sample rows are all numbers. */
export function decideLayout(header: string[], sample: string[][], choice: ColumnChoice): Layout {
  const keep = [...(choice.keep ?? [])];
  const reserved = new Set([choice.label, ...keep, ...(choice.exclude ?? [])]);
  if (choice.features) return { features: [...choice.features], excluded: [], keep };
  const features: string[] = [];
  const excluded: string[] = [];
  header.forEach((name, index) => {
    if (reserved.has(name)) return;
    const values = sample.map((row) => (row[index] ?? "").trim()).filter((cell) => cell !== "");
    if (values.length > 0 && values.every((cell) => Number.isFinite(Number(cell)))) features.push(name);
    else excluded.push(name);
  });
  return { features, excluded, keep };
}

/**
 * The roles of this file's columns. A column the layout needs and the header lacks is an error, and so is one
 * the header names twice: only the first would be read, silently standing in for the other.
 */
export function rolesOf(
  header: string[],
  layout: Layout,
  choice: ColumnChoice,
  shown: string,
  file: string,
): ColumnRoles {
  const columnOf = (name: string) => {
    const index = header.indexOf(name);
    if (index < 0)
      throw new EdgetrainError("data_invalid", `${shown} line 1: no column "${name}" (the first file has it)`, {
        details: { file, line: 1, column: name },
      });
    const again = header.indexOf(name, index + 1);
    if (again >= 0)
      throw new EdgetrainError(
        "data_invalid",
        `${shown} line 1: column "${name}" is in the header twice (columns ${index + 1} and ${again + 1})`,
        {
          details: { file, line: 1, column: name, columnNumber: again + 1 },
          hint: "rename one of the columns",
        },
      );
    return index;
  };
  const featureSlot = new Int32Array(header.length).fill(-1);
  const textSlot = new Int32Array(header.length).fill(-1);
  const columnOfFeature = new Int32Array(layout.features.length);
  const featureCopies: Array<[number, number]> = [];
  const textCopies: Array<[number, number]> = [];
  layout.features.forEach((name, slot) => {
    const column = columnOf(name);
    columnOfFeature[slot] = column;
    if (featureSlot[column]! < 0) featureSlot[column] = slot;
    else featureCopies.push([featureSlot[column]!, slot]);
  });
  // With allowMissingLabel the labels are all empty, even where the column exists: the caller has no labels.
  const texts = [
    ...(choice.allowMissingLabel ? [] : [{ name: choice.label, slot: 0 }]),
    ...layout.keep.map((name, k) => ({ name, slot: 1 + k })),
  ];
  for (const { name, slot } of texts) {
    const column = columnOf(name);
    if (textSlot[column]! < 0) textSlot[column] = slot;
    else textCopies.push([textSlot[column]!, slot]);
  }
  return { featureSlot, textSlot, columnOfFeature, featureCopies, textCopies };
}
