import { statfsSync } from "node:fs";
import { dirname, join } from "node:path";
import { EdgetrainError } from "../errors.ts";

/** Below this much free space the home counts as full: the state database's journal, a run's folder and a model need room to be written whole. */
export const FULL_BELOW_BYTES = 1024 * 1024;

/** Free space on the file system of `path`, or of its nearest existing parent (a home not made yet). */
export function freeSpace(path: string): { path: string; bytes: number } | undefined {
  for (let dir = path; ; dir = dirname(dir)) {
    try {
      const stats = statfsSync(dir);
      return { path: dir, bytes: stats.bavail * stats.bsize };
    } catch {
      if (dir === dirname(dir)) return undefined;
    }
  }
}

/** The condition as an error, exit code 5: a start refused, or `demo --once` giving up. */
export function diskFullError(home: string, consequence = "nothing was started"): EdgetrainError {
  const free = freeSpace(home)?.bytes;
  return new EdgetrainError("disk_full", `the disk of the home ${home} is full (${free === undefined ? "free space unknown" : `${formatBytes(free)} free`}): ${consequence}`, {
    details: { home, free_bytes: free ?? null },
    hint: `free space there (old run folders under ${join(home, "runs")}, rotated logs), or use another home with --home`,
  });
}

/** Whether the home's disk has less than FULL_BELOW_BYTES free; false where statfs cannot tell. */
export function diskIsFull(home: string): boolean {
  const free = freeSpace(home)?.bytes;
  return free !== undefined && free < FULL_BELOW_BYTES;
}

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
