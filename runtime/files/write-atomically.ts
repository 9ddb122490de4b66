import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/**
 * Writes to a temporary name in the same folder, syncs and renames: readers see the old file or the new
 * one, never half of it, and a crash leaves no partial file under the real name.
 */
export function writeAtomically(path: string, content: Uint8Array | string, mode = 0o644): string {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.partial`);
  try {
    const fd = openSync(temp, "w", mode);
    try {
      writeSync(fd, typeof content === "string" ? Buffer.from(content) : content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } finally {
    rmSync(temp, { force: true });
  }
  return path;
}
