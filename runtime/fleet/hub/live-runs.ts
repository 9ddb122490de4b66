import type { RunUpdate } from "../protocol.ts";

/** Updates kept per run: enough for the log tail and the latest checkpoints. */
const KEPT_PER_RUN = 200;
/** A run nobody heard of for this long is forgotten (finished runs arrive as reports). */
const FORGET_AFTER_MS = 60 * 60_000;

export interface LiveRun {
  device: string;
  run: string;
  /** When the hub last heard of it. */
  heard_at: number;
  /** The run's last heartbeat and state, as the device sent them. */
  heartbeat: Record<string, unknown> | null;
  state: Record<string, unknown> | null;
  checkpoints: Array<Record<string, unknown>>;
  /** The trainer's latest log lines, oldest first. */
  log: Array<{ at: string; data: Record<string, unknown> }>;
}

/**
 * Runs training on devices now, followed from the hub: what their agents forward on `runs` (heartbeat,
 * checkpoints, log lines, rate-limited at the device). Kept in memory only: it is live, and a finished run
 * comes as a report, which the registry keeps.
 */
export class LiveRuns {
  private readonly runs = new Map<string, LiveRun>();

  constructor(private readonly now: () => number) {}

  record(update: RunUpdate): void {
    const key = `${update.device}\n${update.run}`;
    let run = this.runs.get(key);
    if (!run) {
      run = {
        device: update.device,
        run: update.run,
        heard_at: 0,
        heartbeat: null,
        state: null,
        checkpoints: [],
        log: [],
      };
      this.runs.set(key, run);
    }
    run.heard_at = this.now();
    if (update.event === "heartbeat") run.heartbeat = update.data;
    else if (update.event === "state") run.state = update.data;
    else if (update.event === "checkpoint") keepLast(run.checkpoints, update.data);
    else keepLast(run.log, { at: update.at, data: update.data });
  }

  /** The device's runs heard of within the last hour, most recent first. */
  of(device: string): LiveRun[] {
    this.forgetOld();
    return [...this.runs.values()].filter((run) => run.device === device).sort((a, b) => b.heard_at - a.heard_at);
  }

  private forgetOld(): void {
    const cut = this.now() - FORGET_AFTER_MS;
    for (const [key, run] of this.runs) if (run.heard_at < cut) this.runs.delete(key);
  }
}

function keepLast<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > KEPT_PER_RUN) list.splice(0, list.length - KEPT_PER_RUN);
}
