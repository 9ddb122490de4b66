import type { RunOverrides } from "../training/run-overrides.ts";
import type { StateDatabase } from "./database.ts";

/** A job+key the scheduler accepted into its queue and has not started yet, as the state keeps it. */
export interface QueuedRun {
  job: string;
  key: string | null;
  trigger: string;
  overrides: RunOverrides;
  queued_at: number;
}

type Row = Omit<QueuedRun, "overrides"> & { ignore_governor: number; ignore_conflicts: number };

/**
 * Keeps a queued entry; one row per job+key. A row already there stays as it is: the entry a restart
 * queues again keeps its first trigger and time.
 */
export function saveQueuedRun(state: StateDatabase, run: QueuedRun): void {
  const { ignoreGovernor, ignoreConflicts } = run.overrides;
  const flags = [ignoreGovernor ? 1 : 0, ignoreConflicts ? 1 : 0] as const;
  // Kept on a full disk and written once space is back, in order with the removals.
  state.writes.retry("a queued run", () =>
    state.db
      .query(
        `INSERT INTO queued_runs (job, key, trigger, ignore_governor, ignore_conflicts, queued_at)
          VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      )
      .run(run.job, run.key, run.trigger, ...flags, run.queued_at),
  );
}

/** The entry started (its run record takes over) or left the queue. */
export function removeQueuedRun(state: StateDatabase, job: string, key: string | null): void {
  const remove = () => void state.db.query("DELETE FROM queued_runs WHERE job = ? AND key IS ?").run(job, key);
  state.writes.retry("a queued run", remove);
}

/** Every entry kept, in the order it was queued. */
export function listQueuedRuns(state: StateDatabase): QueuedRun[] {
  return state.db
    .query<Row, []>(
      "SELECT job, key, trigger, ignore_governor, ignore_conflicts, queued_at FROM queued_runs ORDER BY queued_at, id",
    )
    .all()
    .map(({ ignore_governor, ignore_conflicts, ...run }) => ({
      ...run,
      overrides: { ignoreGovernor: ignore_governor === 1, ignoreConflicts: ignore_conflicts === 1 },
    }));
}

/** A queued entry a later request changed: what it ignores now, and that request as its trigger; its place stays. */
export function updateQueuedRun(state: StateDatabase, run: Omit<QueuedRun, "queued_at">): void {
  const { ignoreGovernor, ignoreConflicts } = run.overrides;
  const flags = [ignoreGovernor ? 1 : 0, ignoreConflicts ? 1 : 0] as const;
  state.writes.retry("a queued run", () =>
    state.db
      .query("UPDATE queued_runs SET trigger = ?, ignore_governor = ?, ignore_conflicts = ? WHERE job = ? AND key IS ?")
      .run(run.trigger, ...flags, run.job, run.key),
  );
}
