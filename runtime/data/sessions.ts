import { readdirSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { EdgetrainError } from "../errors.ts";
import { naturalOrder } from "../natural-order.ts";
import { isDataFile } from "./changes.ts";

export interface Session {
  number: number;
  file: string;
}

/** Keys of a sessions source: its subfolders, in natural order (player_2 before player_10). */
export function sessionKeys(root: string): string[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    throw new EdgetrainError("data_invalid", `data folder ${root} does not exist`, { details: { path: root } });
  }
  return names.filter((name) => statSync(join(root, name)).isDirectory()).sort(naturalOrder);
}

/** Session files of one key ordered by their session number (TR2 before TR10), the latest `count` of them. */
export function sessionWindow(folder: string, pattern: string, count: number): { all: Session[]; window: Session[] } {
  const matcher = new RegExp(pattern);
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    throw new EdgetrainError("data_invalid", `no folder ${folder}`, { details: { path: folder } });
  }
  const all = names
    .filter(isDataFile)
    .flatMap((name) => {
      const match = matcher.exec(name);
      return match?.[1] !== undefined ? [{ number: Number(match[1]), file: join(folder, name) }] : [];
    })
    .sort((a, b) => a.number - b.number || basename(a.file).localeCompare(basename(b.file)));
  return { all, window: all.slice(-count) };
}
