import type { ConflictWait } from "../conflicts/clearance.ts";
import type { StateDatabase } from "../state/database.ts";
import { removeQueuedRun, saveQueuedRun } from "../state/queued-runs.ts";
import type { RunOverrides } from "../training/run-overrides.ts";

export interface QueueEntry {
  job: string;
  key?: string;
  reason: string;
  priority: number;
  queuedAt: number;
  /** What a person told the run to ignore: the governor's admission (and off-peak), the predictors. */
  overrides: RunOverrides;
  /** `force` for a run that ignores conflicts: the clearance's policy for this entry. */
  policy?: "force";
  /** The off-peak deferral already recorded for this entry, so it is recorded once. */
  offPeakNoted?: boolean;
  /** Set while the job waits for a live predictor to go, or for a person's answer. */
  conflict?: ConflictWait;
}

export const entryId = (job: string, key?: string) => `${job}/${key ?? ""}`;

/**
 * The scheduler's queue: one entry per job+key, each kept in the state until its run starts (the run record
 * takes over) or it leaves the queue unrun, so that a crash or a stop does not lose it.
 */
export class RunQueue {
  private readonly entries = new Map<string, QueueEntry>();

  constructor(private readonly state: StateDatabase) {}

  has(job: string, key?: string): boolean {
    return this.entries.has(entryId(job, key));
  }

  get(job: string, key?: string): QueueEntry | undefined {
    return this.entries.get(entryId(job, key));
  }

  get size(): number {
    return this.entries.size;
  }

  add(entry: QueueEntry): void {
    const { job, key, reason: trigger, overrides, queuedAt: queued_at } = entry;
    this.entries.set(entryId(job, key), { ...entry, policy: overrides.ignoreConflicts ? "force" : undefined });
    saveQueuedRun(this.state, { job, key: key ?? null, trigger, overrides, queued_at });
  }

  remove(entry: QueueEntry): void {
    this.entries.delete(entryId(entry.job, entry.key));
    removeQueuedRun(this.state, entry.job, entry.key ?? null);
  }

  /** In the order they were queued. */
  list(): QueueEntry[] {
    return [...this.entries.values()];
  }

  /** Who goes first: the higher priority, then the earlier queued. */
  waiting(): QueueEntry[] {
    return this.list().sort((a, b) => b.priority - a.priority || a.queuedAt - b.queuedAt);
  }
}
