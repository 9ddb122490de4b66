import type { Database } from "bun:sqlite";
import { rmSync } from "node:fs";
import { sep } from "node:path";
import { messageOf } from "../errors.ts";
import type { Logger } from "../plugin-api.ts";

export interface RetentionPolicy {
  /** Run folders kept per job and key, besides the latest successful run's. */
  run_folders: number;
  /** Run records and events older than this leave the state database. */
  keep_days: number;
}

const DAY_MS = 24 * 3600 * 1000;
const IN_PROGRESS = "('queued', 'running', 'paused', 'stalled')";
/**
 * The latest successful run of each job and key: warm starts and `accuracy-below` read its model, and
 * a job without deploy steps has its only output there.
 */
const LATEST_SUCCESS = `SELECT id FROM runs AS r WHERE status = 'succeeded' AND NOT EXISTS (
  SELECT 1 FROM runs AS newer
   WHERE newer.job = r.job AND newer.key IS r.key AND newer.status = 'succeeded' AND newer.ended_at > r.ended_at)`;

/**
 * Keeps months of unattended runs from filling a device's disk: every run leaves a folder with its model
 * (a copy of what the store keeps anyway) and its record, and every decision an event. Runs in progress,
 * the latest successful run of each job and key, and runs whose model is in the store are never removed.
 */
export class Retention {
  constructor(
    private readonly db: Database,
    /** `<home>/runs`: a folder outside it is never deleted, whatever the database says. */
    private readonly runsRoot: string,
    private readonly policy: () => RetentionPolicy,
    private readonly logger: Pick<Logger, "info" | "warn">,
    private readonly now: () => number = Date.now,
  ) {}

  /** After a run of job+key: its run folders beyond the newest `run_folders`. */
  afterRun(job: string, key: string | undefined): void {
    const removed = this.pruneFolders(job, key ?? null);
    if (removed) this.logger.info("removed old run folders", { job, key, folders: removed });
  }

  /** Every job's run folders, then the records and events older than `keep_days`. At start, and once a day. */
  sweep(): void {
    let folders = 0;
    for (const group of this.db
      .query<{ job: string; key: string | null }, []>("SELECT DISTINCT job, key FROM runs WHERE run_dir IS NOT NULL")
      .all()) {
      folders += this.pruneFolders(group.job, group.key);
    }
    const cutoff = this.now() - this.policy().keep_days * DAY_MS;
    const old = this.db
      .query<{ id: string; run_dir: string | null }, [number]>(
        `SELECT id, run_dir FROM runs WHERE created_at < ? AND status NOT IN ${IN_PROGRESS}
           AND id NOT IN (SELECT run_id FROM model_versions WHERE run_id IS NOT NULL)
           AND id NOT IN (${LATEST_SUCCESS})`,
      )
      .all(cutoff);
    for (const run of old) if (run.run_dir) this.removeFolder(run.run_dir);
    const deleteRun = this.db.query("DELETE FROM runs WHERE id = ?");
    const events = this.db.transaction(() => {
      for (const run of old) deleteRun.run(run.id);
      return this.db.query("DELETE FROM events WHERE at < ?").run(cutoff).changes;
    })();
    if (folders || old.length || events)
      this.logger.info("removed old history", {
        run_folders: folders,
        runs: old.length,
        events,
        older_than_days: this.policy().keep_days,
      });
  }

  private pruneFolders(job: string, key: string | null): number {
    const candidates = this.db
      .query<{ id: string; run_dir: string }, [string, string | null, number]>(
        `SELECT id, run_dir FROM runs
          WHERE job = ? AND key IS ? AND run_dir IS NOT NULL AND status NOT IN ${IN_PROGRESS}
            AND id NOT IN (${LATEST_SUCCESS}) ORDER BY created_at DESC LIMIT -1 OFFSET ?`,
      )
      .all(job, key, this.policy().run_folders);
    const forget = this.db.query("UPDATE runs SET run_dir = NULL WHERE id = ?");
    let removed = 0;
    for (const run of candidates) {
      if (!this.removeFolder(run.run_dir)) continue;
      forget.run(run.id);
      removed++;
    }
    return removed;
  }

  private removeFolder(dir: string): boolean {
    if (!dir.startsWith(this.runsRoot + sep)) return false;
    try {
      rmSync(dir, { recursive: true, force: true });
      return true;
    } catch (error) {
      this.logger.warn("could not remove an old run folder", { folder: dir, error: messageOf(error) });
      return false;
    }
  }
}
