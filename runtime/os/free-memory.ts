import { readFileSync } from "node:fs";
import { withLibc } from "./libc.ts";

export interface MemoryReleased {
  /** Resident memory of the process before and after, in bytes; undefined where /proc cannot tell. */
  before?: number;
  after?: number;
  /** Whether glibc's malloc_trim ran: not on musl, or wherever libc cannot be opened. */
  trimmed: boolean;
}

/**
 * Gives memory freed since the last collection back to the system: a full collection of JavaScriptCore's heap,
 * then glibc's malloc_trim, which returns the free pages of the native heap (ONNX Runtime's sessions, and
 * what a training or scoring thread left behind) that glibc would otherwise keep for later allocations.
 * Both hold the calling thread for milliseconds: for a moment with nothing to answer.
 */
export function releaseFreeMemory(): MemoryReleased {
  const before = residentBytes();
  Bun.gc(true);
  const trim = { malloc_trim: { args: ["u64"], returns: "i32" } } as const;
  const trimmed = withLibc(trim, (libc) => (libc.malloc_trim(0n), true)) ?? false;
  return { before, after: residentBytes(), trimmed };
}

function residentBytes(): number | undefined {
  try {
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}
