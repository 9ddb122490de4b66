import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Reads a file under a root prefix (`/` on a real machine, a recorded tree in tests); undefined if absent. */
export function readText(root: string, path: string): string | undefined {
  try {
    return readFileSync(join(root, path), "utf8");
  } catch {
    return undefined;
  }
}

export function exists(root: string, path: string): boolean {
  return existsSync(join(root, path));
}

export function list(root: string, path: string): string[] {
  try {
    return readdirSync(join(root, path)).sort();
  } catch {
    return [];
  }
}
