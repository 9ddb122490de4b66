import type { Job } from "../config/schema.ts";
import type { DataTable, JobInfo, Logger, TrainResult } from "../plugin-api.ts";

/** What a deploy is asked to do (a run's model, or a version already stored) and what became of it. */

export interface DeployRequest {
  job: string;
  key?: string;
  spec: Job;
  run: string;
  result: TrainResult;
  /** Rows neither version trained on, for the gate and the health check; undefined without data. */
  heldOut?: DataTable;
  logger: Logger;
  signal: AbortSignal;
  /** What the deploy steps are told of the job (their context's `job`); the job runner's. */
  jobInfo?: JobInfo;
  /** Why the version is activated, for the log; `run RUN` when left out. */
  reason?: string;
  /** A run that ignores conflicts (`--ignore-conflicts`, `--force`) writes its files past live predictors too. */
  ignoreConflicts?: boolean;
}

/** A version already in the store (an imported model, a fleet update), to pass through deploy steps. */
export interface StoredDeployRequest {
  model: string;
  version: number;
  /** The local job (and key) that trains the model: the steps and the conflict policy go by it; default the model. */
  job?: string;
  key?: string;
  /** The job's steps; gate then activate when left out. */
  steps?: Job["deploy"];
  heldOut?: DataTable;
  reason: string;
  logger: Logger;
  signal: AbortSignal;
}

export interface Deployment {
  model: string;
  /** The version the model became; absent when the deploy failed before the store had it. */
  version?: number;
  /**
   * activated, rejected (a gate said no), stored (no step activated it) or failed (a step broke and was rolled
   * back, or the deploy itself broke: `message` says why).
   */
  status: "activated" | "rejected" | "stored" | "failed";
  message?: string;
  /**
   * Failed on the machine rather than on the model (an error of the file system: EACCES, ENOSPC, EIO…): the
   * deploy stays pending and is tried again at the next start, once the cause may be gone.
   */
  retry_at_start?: boolean;
  steps: Array<{ step: string; ok: boolean; message?: string; rolled_back?: boolean }>;
}

/** A deploy's outcome in words, for the CLI and the log: `model m version 3 rejected (gate: …)`. */
export function deploymentText(deployment: Deployment): string {
  const { model, version, status, message } = deployment;
  const retry = deployment.retry_at_start ? "; tried again at the next start" : "";
  const why = message || retry ? ` (${message ?? ""}${retry})` : "";
  return `model ${model}${version !== undefined ? ` version ${version}` : ""} ${status}${why}`;
}
