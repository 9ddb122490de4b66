import type { Database } from "bun:sqlite";
import type { Deployment } from "../deploy/deployment.ts";
import type { DeployState } from "../plugin-api.ts";

/** A run as the CLI and the API show it. */
export interface RunSummary {
  id: string;
  job: string;
  key: string | null;
  strategy: string;
  trigger: string;
  status: string;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  progress: number | null;
  message: string | null;
  metrics: Record<string, number> | null;
  error: string | null;
}

export interface RunDetail extends RunSummary {
  details: unknown;
  run_dir: string | null;
}

const COLUMNS =
  "id, job, key, strategy, trigger, status, created_at, started_at, ended_at, progress, message, metrics, error";
type Row = Omit<RunSummary, "metrics"> & { metrics: string | null };

function summary(row: Row): RunSummary {
  return { ...row, metrics: row.metrics ? (JSON.parse(row.metrics) as Record<string, number>) : null };
}

/** Newest first, optionally of one job. */
export function listRuns(db: Database, filter: { job?: string; limit: number }): RunSummary[] {
  return db
    .query<Row, [string | null, string | null, number]>(
      `SELECT ${COLUMNS} FROM runs WHERE (? IS NULL OR job = ?) ORDER BY created_at DESC LIMIT ?`,
    )
    .all(filter.job ?? null, filter.job ?? null, filter.limit)
    .map(summary);
}

/** What the deploys of these runs made of their models, as their records keep it; runs without one are left out. */
export function runDeployments(db: Database, ids: string[]): Map<string, Deployment> {
  const rows = db
    .query<{ id: string; deployment: string }, string[]>(
      `SELECT id, json_extract(details, '$.deployment') AS deployment FROM runs WHERE id IN ` +
        `(${ids.map(() => "?").join(", ")}) AND json_extract(details, '$.deployment') IS NOT NULL`,
    )
    .all(...ids);
  return new Map(rows.map((row) => [row.id, JSON.parse(row.deployment) as Deployment]));
}

export function getRun(db: Database, id: string): RunDetail | undefined {
  const row = db
    .query<Row & { details: string | null; run_dir: string | null }, [string]>(
      `SELECT ${COLUMNS}, details, run_dir FROM runs WHERE id = ?`,
    )
    .get(id);
  return row
    ? { ...summary(row), details: row.details ? JSON.parse(row.details) : null, run_dir: row.run_dir }
    : undefined;
}

/** The latest successful run of job+key, with how far its deploy got (null: none was recorded). */
export function latestSuccess(
  db: Database,
  job: string,
  key: string | undefined,
): { id: string; ended_at: number; details: string; deploy: DeployState | null } | undefined {
  return (
    db
      .query<{ id: string; ended_at: number; details: string; deploy: DeployState | null }, [string, string | null]>(
        `SELECT r.id, r.ended_at, r.details, d.state AS deploy FROM runs AS r LEFT JOIN deploys AS d ON d.run_id = r.id
          WHERE r.job = ? AND r.key IS ? AND r.status = 'succeeded' ORDER BY r.ended_at DESC LIMIT 1`,
      )
      .get(job, key ?? null) ?? undefined
  );
}

/** Runs the state says are under way: only the process that started them knows whether they still are. */
const UNDER_WAY = "('running', 'paused', 'stalled')";

/** A run in progress, as `/v1/status` lists it. */
export interface RunInProgress {
  id: string;
  job: string;
  key: string | null;
  status: string;
  progress: number | null;
  message: string | null;
  started_at: number | null;
}

/** Runs under way, oldest first. */
export function runsInProgress(db: Database): RunInProgress[] {
  return db
    .query<RunInProgress, []>(
      `SELECT id, job, key, status, progress, message, started_at FROM runs WHERE status IN ${UNDER_WAY} ORDER BY ` +
        `started_at`,
    )
    .all();
}

/** How long a run took from start to end (to now, if it has not ended); undefined when it never started. */
export function runSeconds(db: Database, id: string, now: number): number | undefined {
  type Span = { started_at: number | null; ended_at: number | null };
  const row = db.query<Span, [string]>("SELECT started_at, ended_at FROM runs WHERE id = ?").get(id);
  if (row?.started_at == null) return undefined;
  return Math.max(0, ((row.ended_at ?? now) - row.started_at) / 1000);
}

/**
 * At start, runs still queued or under way belong to a process that is gone: marks them interrupted
 * and returns them, so that they can be run again.
 */
export function interruptRunsLeftOver(
  db: Database,
  now: number,
): Array<{ id: string; job: string; key: string | null }> {
  const left = "('queued', 'running', 'paused', 'stalled')";
  return db.transaction(() => {
    const rows = db
      .query<{ id: string; job: string; key: string | null }, []>(
        `SELECT id, job, key FROM runs WHERE status IN ${left}`,
      )
      .all();
    if (rows.length > 0)
      db.query(
        `UPDATE runs SET status = 'interrupted', ended_at = ?, error = 'edgetrain stopped while this run was in ` +
          `progress' WHERE status IN ${left}`,
      ).run(now);
    return rows;
  })();
}
