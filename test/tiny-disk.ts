import { spawnSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Why tests on a real full disk cannot run here, or undefined when they can: mounting a tmpfs needs root. */
export const tinyDiskUnavailable: string | undefined = (() => {
  if (process.getuid?.() !== 0) return "mounting a tmpfs needs root";
  const probe = mkdtempSync(join(tmpdir(), "edgetrain-mount-probe-"));
  try {
    const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", probe], { encoding: "utf8" });
    if (mounted.status !== 0) return `mount refused: ${(mounted.stderr || mounted.error?.message || "").trim()}`;
    spawnSync("umount", [probe]);
    return undefined;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
})();

export interface TinyDisk extends AsyncDisposable {
  /** The mount point: a file system of its own, `size` big. */
  path: string;
  /** Writes a file until the disk refuses another byte. */
  fill(): void;
  /** Removes what fill() wrote. */
  free(): void;
}

/**
 * A tmpfs of `size` (MB, or a mount size such as "512k") on a temporary folder; unmounted and removed at the end of the
 * `await using` scope.
 */
export function tinyDisk(size: number | string): TinyDisk {
  const path = mkdtempSync(join(tmpdir(), "edgetrain-tiny-disk-"));
  const mounted = spawnSync(
    "mount",
    ["-t", "tmpfs", "-o", `size=${typeof size === "number" ? `${size}m` : size}`, "tmpfs", path],
    { encoding: "utf8" },
  );
  if (mounted.status !== 0) throw new Error(`cannot mount a tmpfs on ${path}: ${mounted.stderr}`);
  mkdirSync(join(path, ".filler"), { recursive: true });
  const filler = join(path, ".filler", "fill");
  return {
    path,
    fill() {
      const fd = openSync(filler, "a");
      try {
        // Big chunks first, then pages, so that not one free page is left.
        for (const size of [1 << 20, 1 << 16, 4096, 1]) {
          const chunk = Buffer.alloc(size, 1);
          try {
            for (;;) writeSync(fd, chunk);
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    free() {
      rmSync(filler, { force: true });
    },
    async [Symbol.asyncDispose]() {
      // A daemon that just exited may hold the mount busy for a moment.
      for (let attempt = 0; attempt < 50 && spawnSync("umount", [path]).status !== 0; attempt++) await Bun.sleep(100);
      rmSync(path, { recursive: true, force: true });
    },
  };
}
