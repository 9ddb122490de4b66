import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
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

/**
 * `writeAtomically` off the calling thread: the write and the fsync wait in the thread pool, so the
 * daemon goes on answering requests meanwhile. The temporary name is unique, as writes may overlap.
 * `durable: false` skips the fsync, for copies whose loss in a power cut costs nothing.
 */
export async function writeAtomicallyAsync(path: string, content: Uint8Array | string, { mode = 0o644, durable = true } = {}): Promise<string> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}-${crypto.randomUUID().slice(0, 8)}.partial`);
  try {
    const handle = await open(temp, "w", mode);
    try {
      await handle.writeFile(content);
      if (durable) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } finally {
    await rm(temp, { force: true });
  }
  return path;
}

/** fsync of a file or a folder, off the calling thread: a rename is durable only once its folder is synced. */
export async function syncPath(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
