import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";

/**
 * A child started as the leader of its own process group (setsid), so that signals reach everything it
 * started: SIGSTOP/SIGCONT pause the whole trainer, SIGTERM then SIGKILL leave no orphans.
 */
export class ProcessGroup {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private done = false;

  /** `membersOf` lists a group's live pids; the host hands it over (PluginLibraries.processGroupMembers). */
  constructor(
    command: string[],
    options: { cwd: string; env: Record<string, string | undefined> },
    private readonly membersOf: (group: number) => number[],
  ) {
    this.child = spawn(command[0]!, command.slice(1), {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
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
    if (this.membersOf(this.pid).length > 0) {
      await Bun.sleep(Math.min(graceMs, 200));
      this.signal("SIGKILL");
    }
  }

  /** Resident memory of every process in the group, in MB. */
  rssMb(): number {
    return this.membersOf(this.pid).reduce((sum, pid) => sum + rssOf(pid), 0);
  }
}

function rssOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}
