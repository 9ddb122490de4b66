import { mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { writeAtomically } from "../files/write-atomically.ts";
import type { EmbeddedFile } from "./embedded-runtime-files.ts";

/**
 * Copies embedded files into `dir` once, side by side (the addon finds its library through $ORIGIN),
 * unpacking the ones the build compressed. Each file is written to a temporary name and renamed, so a
 * crash or a second process never sees a half-written library; files already there with the right size
 * are reused without reading the embedded copy.
 */
export function extractFiles(dir: string, files: Record<string, EmbeddedFile>): Record<string, string> {
  mkdirSync(dir, { recursive: true });
  const out: Record<string, string> = {};
  for (const [name, file] of Object.entries(files)) {
    const target = join(dir, name);
    out[name] = target;
    if (sizeOf(target) === file.bytes) continue;
    const packed = readFileSync(file.path);
    const bytes = file.gzip ? Bun.gunzipSync(packed) : packed;
    if (bytes.byteLength !== file.bytes)
      throw new Error(
        `the binary's copy of ${name} unpacks to ${bytes.byteLength} bytes, not ${file.bytes}: the binary is damaged`,
      );
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
