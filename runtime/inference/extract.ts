import { mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { writeAtomically } from "../files/write-atomically.ts";

/**
 * Copies embedded files into `dir` once, side by side (the addon finds its library through $ORIGIN).
 * Each file is written to a temporary name and renamed, so a crash or a second process never sees a
 * half-written library; files already there with the right size are reused.
 */
export function extractFiles(dir: string, files: Record<string, string>): Record<string, string> {
  mkdirSync(dir, { recursive: true });
  const out: Record<string, string> = {};
  for (const [name, embeddedPath] of Object.entries(files)) {
    const target = join(dir, name);
    out[name] = target;
    const bytes = readFileSync(embeddedPath);
    if (sizeOf(target) === bytes.byteLength) continue;
    writeAtomically(target, bytes, 0o755);
  }
  return out;
}

function sizeOf(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}
