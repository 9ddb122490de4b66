import { readdirSync, readFileSync, readlinkSync } from "node:fs";

export interface ProcessEntry {
  pid: number;
  /** Its process group (field 5 of /proc/PID/stat). */
  group: number;
  /** Clock ticks since boot (field 22). */
  started: number;
  /** R, S, T stopped, Z zombie… */
  state: string;
}

/** A process as /proc/PID/stat shows it; undefined when there is none. */
export function processEntry(pid: number, procRoot = "/proc"): ProcessEntry | undefined {
  try {
    const stat = readFileSync(`${procRoot}/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const started = Number(fields[19]);
    if (!Number.isFinite(started)) return undefined;
    return { pid, group: Number(fields[2]), started, state: fields[0] ?? "" };
  } catch {
    return undefined;
  }
}

/**
 * A process's start time in clock ticks since boot (field 22 of /proc/PID/stat). Together with the pid it
 * names a process uniquely, so a lock whose pid was reused by another program is recognised as stale.
 */
export function processStartTime(pid: number, procRoot = "/proc"): number | undefined {
  return processEntry(pid, procRoot)?.started;
}

export function isAlive(pid: number, startTime: number | undefined, procRoot = "/proc"): boolean {
  const actual = processStartTime(pid, procRoot);
  if (actual === undefined) return false;
  return startTime === undefined || actual === startTime;
}

/** Pids whose process group is `group` (field 5 of /proc/PID/stat). */
export function processGroupMembers(group: number): number[] {
  if (group <= 0) return [];
  return [...processTable().values()].filter((entry) => entry.group === group).map((entry) => entry.pid);
}

/** Every live process, from one pass over /proc; a zombie has exited and only waits to be reaped. */
export function processTable(procRoot = "/proc"): Map<number, ProcessEntry> {
  const table = new Map<number, ProcessEntry>();
  for (const name of readdirSync(procRoot)) {
    if (!/^\d+$/.test(name)) continue;
    const entry = processEntry(Number(name), procRoot);
    if (entry && entry.state !== "Z") table.set(entry.pid, entry);
  }
  return table;
}

/** This boot's id: a pid and its start time name a process within one boot only. */
export function bootId(procRoot = "/proc"): string | undefined {
  try {
    return readFileSync(`${procRoot}/sys/kernel/random/boot_id`, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** Whether the process works in `folder` or names it in the environment it was started with. */
export function processMentions(pid: number, folder: string, procRoot = "/proc"): boolean {
  const within = (path: string) => path === folder || path.startsWith(`${folder}/`);
  try {
    if (within(readlinkSync(`${procRoot}/${pid}/cwd`))) return true;
  } catch {
    // Not ours to read, or gone.
  }
  try {
    return readFileSync(`${procRoot}/${pid}/environ`, "utf8")
      .split("\0")
      .some((variable) => within(variable.slice(variable.indexOf("=") + 1)));
  } catch {
    return false;
  }
}
