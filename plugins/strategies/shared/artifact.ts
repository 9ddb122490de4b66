import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";

/** Writes the model under a temporary name, syncs it and renames it: a crash never leaves half a model. */
export function writeArtifact(runDir: string, name: string, bytes: Uint8Array): string {
  const path = join(runDir, name);
  const temp = `${path}.${process.pid}.partial`;
  try {
    const fd = openSync(temp, "w", 0o644);
    writeSync(fd, bytes);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(temp, path);
  } finally {
    rmSync(temp, { force: true });
  }
  return path;
}
