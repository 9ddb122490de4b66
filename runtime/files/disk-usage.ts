import { type StatsFs, statfsSync } from "node:fs";
import { dirname } from "node:path";

/**
 * The file system of `path`, or of its nearest existing parent (a home not made yet). One of no size (/proc, /sys,
 * some FUSE mounts) has no disk behind it, and its zero free blocks would read as a full disk: it cannot tell, as
 * where statfs fails.
 */
function fileSystemOf(path: string): { path: string; stats: StatsFs } | undefined {
  for (let dir = path; ; dir = dirname(dir)) {
    try {
      const stats = statfsSync(dir);
      return stats.blocks > 0 ? { path: dir, stats } : undefined;
    } catch {
      if (dir === dirname(dir)) return undefined;
    }
  }
}

/** Free space on the file system of `path`, or of its nearest existing parent (a home not made yet). */
export function freeSpace(path: string): { path: string; bytes: number } | undefined {
  const found = fileSystemOf(path);
  return found && { path: found.path, bytes: found.stats.bavail * found.stats.bsize };
}

/** Space on the file system of `path` (or of its nearest existing parent), as `df` counts it. */
export interface DiskUsage {
  /** Free to the daemon's user: what is left before writes fail. */
  freeBytes: number;
  /** The size less the free blocks (root's reserve counted as free), as `df` counts it. */
  usedBytes: number;
  sizeBytes: number;
}

export function diskUsage(path: string): DiskUsage | undefined {
  const found = fileSystemOf(path);
  if (!found) return undefined;
  const { bavail, bfree, blocks, bsize } = found.stats;
  return { freeBytes: bavail * bsize, usedBytes: (blocks - bfree) * bsize, sizeBytes: blocks * bsize };
}

/** A byte count for people: `512 B`, `1.5 MB`. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 || value >= 10 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}
