import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/**
 * A child started as the leader of its own process group (setsid), so that signals reach everything it
 * started: SIGSTOP/SIGCONT pause the whole trainer, SIGTERM then SIGKILL leave no orphans.
 */
export class ProcessGroup {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private done = false;

  constructor(command: string[], options: { cwd: string; env: Record<string, string | undefined> }) {
    this.child = spawn(command[0]!, command.slice(1), { cwd: options.cwd, env: options.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => {
        this.done = true;
        resolve({ code, signal });
      });
      // A command that cannot start (ENOENT) emits "error" and never "exit".
      this.child.once("error", () => {
        this.done = true;
        resolve({ code: 127, signal: null });
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return !this.done;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.pid <= 0) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      // The group is gone already.
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; the group's other members get the same. */
  async stop(graceMs: number): Promise<void> {
    this.signal("SIGTERM");
    // A stopped process cannot act on SIGTERM until it runs again.
    this.signal("SIGCONT");
    const timer = setTimeout(() => this.signal("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
    // The leader is gone; members that ignored SIGTERM are not.
    if (membersOf(this.pid).length > 0) {
      await Bun.sleep(Math.min(graceMs, 200));
      this.signal("SIGKILL");
    }
  }

  /** Resident memory of every process in the group, in MB. */
  rssMb(): number {
    return membersOf(this.pid).reduce((sum, pid) => sum + rssOf(pid), 0);
  }
}

/** Pids whose process group is `group` (field 5 of /proc/PID/stat). */
export function membersOf(group: number): number[] {
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

function rssOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}
