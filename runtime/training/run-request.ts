import type { ScoreSummary } from "../batch-scoring/score-summary.ts";
import type { Deployment } from "../deploy/deployment.ts";
import type { CancelReason } from "../errors.ts";
import type { ProgressReporter } from "../plugin-api.ts";
import type { RunOverrides } from "./run-overrides.ts";

/** What the job runner is asked to run, and what became of each run. */

export interface RunOutcome {
  run: string;
  job: string;
  key?: string;
  status: "succeeded" | "failed" | "cancelled";
  metrics?: Record<string, number>;
  artifact?: string;
  error?: string;
  /** Why a cancelled run was cancelled: the scheduler queues a max_pause one again. */
  cancel_reason?: CancelReason;
  /** What became of the model: its version, and whether it serves. */
  deployment?: Deployment;
  /** A score run's summary: rows, files, the class histogram or value statistics. */
  score?: ScoreSummary;
}

export interface RunRequest extends RunOverrides {
  job: string;
  /** Only this key; otherwise every key of the job, one run each. */
  key?: string;
  /** In words, for the record: `manual: edgetrain train`, `cron 0 2 * * 0`. */
  trigger: string;
  signal?: AbortSignal;
  progress?: ProgressReporter;
}
