import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { writeFailure } from "./write-failure.ts";

/**
 * Writes to a temporary name in the same folder, syncs and renames: readers see the old file or the new
 * one, never half of it, and a crash leaves no partial file under the real name. Any failure (a full
 * disk included) removes the temporary file and throws an error that names `path`.
 */
export function writeAtomically(path: string, content: Uint8Array | string, mode = 0o644): string {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.partial`);
  const bytes = typeof content === "string" ? Buffer.from(content) : content;
  try {
    const fd = openSync(temp, "w", mode);
    try {
      // A write may take fewer bytes than asked (a disk filling up) without failing: only the next one fails.
      for (let done = 0; done < bytes.length; )
        done += checkedCount(writeSync(fd, bytes, done, bytes.length - done), done, bytes.length);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    throw writeFailure(path, error);
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
export async function writeAtomicallyAsync(
  path: string,
  content: Uint8Array | string,
  { mode = 0o644, durable = true } = {},
): Promise<string> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}-${crypto.randomUUID().slice(0, 8)}.partial`);
  const bytes = typeof content === "string" ? Buffer.from(content) : content;
  try {
    const handle = await open(temp, "w", mode);
    try {
      for (let done = 0; done < bytes.length; )
        done += checkedCount((await handle.write(bytes, done, bytes.length - done)).bytesWritten, done, bytes.length);
      if (durable) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    throw writeFailure(path, error);
  } finally {
    await rm(temp, { force: true });
  }
  return path;
}

/** A write that took nothing would loop forever; the file cannot be completed. */
function checkedCount(written: number, done: number, total: number): number {
  if (written > 0) return written;
  throw new Error(`the write stopped after ${done} of ${total} bytes`);
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

/** A file written in pieces that appears under its name whole, or not at all (`openAtomically`). */
export interface AtomicFile {
  /** Appends to the temporary file. */
  write(chunk: string | Uint8Array): Promise<void>;
  /** Syncs, renames, and syncs the folder: the whole file appears at once. */
  commit(): Promise<void>;
  /** Removes the temporary file; whatever had the name before keeps it. Harmless after commit(). */
  discard(): Promise<void>;
}

/**
 * `writeAtomically` for files written in pieces, too large to hold (batch scoring's predictions): the
 * pieces go to a temporary name in the same folder, renamed at commit(). A crash or an error before that
 * leaves no half-written file under the real name.
 */
export async function openAtomically(path: string, mode = 0o644): Promise<AtomicFile> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}-${crypto.randomUUID().slice(0, 8)}.partial`);
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(temp, "w", mode);
  } catch (error) {
    throw writeFailure(path, error);
  }
  const close = async () => {
    const current = handle;
    handle = undefined;
    await current?.close();
  };
  return {
    async write(chunk) {
      if (!handle) throw new Error(`${path} is already committed or discarded`);
      const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      try {
        for (let done = 0; done < bytes.length; )
          done += checkedCount((await handle.write(bytes, done, bytes.length - done)).bytesWritten, done, bytes.length);
      } catch (error) {
        await close().catch(() => undefined);
        await rm(temp, { force: true });
        throw writeFailure(path, error);
      }
    },
    async commit() {
      if (!handle) throw new Error(`${path} is already committed or discarded`);
      try {
        await handle.sync();
        await close();
        await rename(temp, path);
        await syncPath(dirname(path));
      } catch (error) {
        await close().catch(() => undefined);
        await rm(temp, { force: true });
        throw writeFailure(path, error);
      }
    },
    async discard() {
      await close().catch(() => undefined);
      await rm(temp, { force: true });
    },
  };
}
