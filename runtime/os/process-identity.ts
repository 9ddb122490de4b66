import { readdirSync, readFileSync } from "node:fs";

/**
 * A process's start time in clock ticks since boot (field 22 of /proc/PID/stat). Together with the pid it
 * names a process uniquely, so a lock whose pid was reused by another program is recognised as stale.
 */
export function processStartTime(pid: number, procRoot = "/proc"): number | undefined {
  try {
    const stat = readFileSync(`${procRoot}/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number, startTime: number | undefined, procRoot = "/proc"): boolean {
  const actual = processStartTime(pid, procRoot);
  if (actual === undefined) return false;
  return startTime === undefined || actual === startTime;
}

/** Pids whose process group is `group` (field 5 of /proc/PID/stat). */
export function processGroupMembers(group: number): number[] {
  if (group <= 0) return [];
  const members: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // fields[0] is the state; a zombie has exited and only waits to be reaped.
      if (Number(fields[2]) === group && fields[0] !== "Z") members.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return members;
}
