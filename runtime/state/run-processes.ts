import type { Database } from "bun:sqlite";
import type { StateDatabase } from "./database.ts";

/** A process a run started (a trainer leading its group), and the edgetrain process that started it. */
export interface RunProcess {
  run: string;
  worker: string | null;
  pid: number;
  /** Its process group: the pid itself for a trainer that leads its own. */
  pgid: number;
  /** Start times are clock ticks since boot (/proc/PID/stat field 22): with the boot id, they tell a reused pid. */
  started: number;
  boot_id: string;
  owner_pid: number;
  owner_started: number;
}

/** A recorded process with its run's job, key and folder, as the next start finds it. */
export type LeftRunProcess = RunProcess & { job: string; key: string | null; run_dir: string };

/** Kept on a full disk and written once space is back: it is what stops the process after a crash. */
export function saveRunProcess(state: Pick<StateDatabase, "db" | "writes">, row: RunProcess, now = Date.now()): void {
  state.writes.retry(`the processes of run ${row.run}`, () =>
    state.db
      .query(
        `INSERT OR REPLACE INTO run_processes
          (run, worker, pid, pgid, started, boot_id, owner_pid, owner_started, recorded_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(row.run, row.worker, row.pid, row.pgid, row.started, row.boot_id, row.owner_pid, row.owner_started, now),
  );
}

/** Every process recorded, oldest run first. */
export function runProcesses(db: Database): LeftRunProcess[] {
  return db
    .query<LeftRunProcess, []>(
      `SELECT p.run, p.worker, p.pid, p.pgid, p.started, p.boot_id, p.owner_pid, p.owner_started, r.job, r.key,
          r.run_dir FROM run_processes p JOIN runs r ON r.id = p.run ORDER BY r.started_at, p.run, p.pid`,
    )
    .all();
}

/** The processes recorded for one run. */
export function runProcessesOf(db: Database, run: string): RunProcess[] {
  return db
    .query<RunProcess, [string]>(
      "SELECT run, worker, pid, pgid, started, boot_id, owner_pid, owner_started FROM run_processes WHERE run = ?",
    )
    .all(run);
}

/** Forgets the run's processes whose pid is one of `pids`. */
export function forgetRunProcesses(state: Pick<StateDatabase, "db" | "writes">, run: string, pids: number[]): void {
  if (pids.length === 0) return;
  state.writes.attempt(`the processes of run ${run}`, () => {
    const forget = state.db.query("DELETE FROM run_processes WHERE run = ? AND pid = ?");
    state.db.transaction(() => pids.forEach((pid) => forget.run(run, pid)))();
  });
}
