import type { Database } from "bun:sqlite";
import type { TrainResult } from "../plugin-api.ts";

/** A deploy a crash (or a stop) cut short: what resuming it needs. */
export interface UnfinishedDeploy {
  run: string;
  job: string;
  key?: string;
  model: string;
  state: "pending" | "in_progress";
  result: TrainResult;
  /** When the run started: the data it held out is read again as of then. */
  started_at: number;
  /** A later successful run of the same job and key: its model, not this one, is the one to serve. */
  superseded_by?: string;
  /** Why its last try failed, for one left pending to be retried (deploy-failure.ts); absent after a crash. */
  reason?: string;
}

/**
 * Recorded with the run's success, in the same transaction by the caller: a crash right after it leaves
 * the deploy pending, never forgotten. The result is kept without the workers' reports (the run record
 * has them), so that a resumed deploy gets the same artifact, metrics and metadata.
 */
export function recordDeployPending(
  db: Database,
  deploy: { run: string; job: string; key?: string; model: string; result: TrainResult },
): void {
  const { workers: _workers, ...metadata } = deploy.result.metadata ?? {};
  const result: TrainResult = { artifact: deploy.result.artifact, metrics: deploy.result.metrics, metadata };
  db.query(
    "INSERT INTO deploys (run_id, job, key, model, state, result, updated_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)",
  ).run(deploy.run, deploy.job, deploy.key ?? null, deploy.model, JSON.stringify(result), Date.now());
}

/** A deploy without a row (one not started by a recorded run) is not tracked: nothing changes. */
export function markDeployInProgress(db: Database, run: string): void {
  // A reason left by a failure tried again would otherwise name the cause of a later crash.
  db.query("UPDATE deploys SET state = 'in_progress', reason = NULL, updated_at = ? WHERE run_id = ?").run(
    Date.now(),
    run,
  );
}

export function finishDeploy(
  db: Database,
  run: string,
  outcome: { state: "done" | "failed"; version?: number; reason?: string },
): void {
  db.query(
    "UPDATE deploys SET state = ?, version = coalesce(?, version), reason = ?, updated_at = ? WHERE run_id = ?",
  ).run(outcome.state, outcome.version ?? null, outcome.reason ?? null, Date.now(), run);
}

/**
 * A deploy that broke on the machine rather than on the model (a folder it may not write, a full disk): pending
 * again, with why, so that the next start tries it again once the cause may be gone.
 */
export function retryDeployAtStart(db: Database, run: string, reason: string): void {
  db.query("UPDATE deploys SET state = 'pending', reason = ?, updated_at = ? WHERE run_id = ?").run(
    reason,
    Date.now(),
    run,
  );
}

/** Deploys left pending or in progress, in the order their runs ended. */
export function unfinishedDeploys(db: Database): UnfinishedDeploy[] {
  return db
    .query<
      {
        run: string;
        job: string;
        key: string | null;
        model: string;
        state: "pending" | "in_progress";
        result: string;
        started_at: number | null;
        created_at: number;
        superseded_by: string | null;
        reason: string | null;
      },
      []
    >(
      `SELECT d.run_id AS run, d.job, d.key, d.model, d.state, d.result, d.reason, r.started_at, r.created_at,
              (SELECT newer.id FROM runs AS newer
                WHERE newer.job = r.job AND newer.key IS r.key AND newer.status = 'succeeded'
                  AND newer.ended_at > r.ended_at ORDER BY newer.ended_at DESC LIMIT 1) AS superseded_by
         FROM deploys AS d JOIN runs AS r ON r.id = d.run_id
        WHERE d.state IN ('pending', 'in_progress') ORDER BY r.ended_at, r.id`,
    )
    .all()
    .map((row) => ({
      run: row.run,
      job: row.job,
      ...(row.key !== null ? { key: row.key } : {}),
      model: row.model,
      state: row.state,
      result: JSON.parse(row.result) as TrainResult,
      started_at: row.started_at ?? row.created_at,
      ...(row.superseded_by !== null ? { superseded_by: row.superseded_by } : {}),
      ...(row.reason !== null ? { reason: row.reason } : {}),
    }));
}

/** The version a run's model became in the store, if it got that far: the store keeps the run id with each version. */
export function versionOfRun(db: Database, model: string, run: string): number | undefined {
  return db
    .query<{ version: number }, [string, string]>(
      "SELECT version FROM model_versions WHERE model = ? AND json_extract(metadata, '$.run') = ? ORDER BY version " +
        "DESC LIMIT 1",
    )
    .get(model, run)?.version;
}

/** The model's versions that deploys left pending or in progress work on: resuming one needs its version's files. */
export function versionsOfUnfinishedDeploys(db: Database, model: string): number[] {
  return db
    .query<{ version: number }, [string]>(
      "SELECT v.version FROM deploys AS d JOIN model_versions AS v ON v.model = d.model " +
        "AND json_extract(v.metadata, '$.run') = d.run_id WHERE d.model = ? AND d.state IN ('pending', 'in_progress')",
    )
    .all(model)
    .map((row) => row.version);
}

/** What a resumed deploy made of the run's model joins its record, as it does after an uninterrupted one. */
export function recordRunDeployment(db: Database, run: string, deployment: unknown): void {
  db.query("UPDATE runs SET details = json_set(coalesce(details, '{}'), '$.deployment', json(?)) WHERE id = ?").run(
    JSON.stringify(deployment),
    run,
  );
}
