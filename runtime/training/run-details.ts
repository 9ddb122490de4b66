import type { ScoreSummary } from "../batch-scoring/score-summary.ts";
import type { CancelReason, ErrorCode } from "../errors.ts";

/** Which run a run recorder records. */
export interface RunIdentity {
  id: string;
  job: string;
  key?: string;
  strategy: string;
  /** What started it, in words: `manual: edgetrain fit`, `cron 0 2 * * 0`, `new-data TR5…`. */
  trigger: string;
  runDir: string;
}

/** What a run leaves behind besides its model, in the state database and in `run.json` of its folder. */
export interface RunDetails {
  last_heartbeat?: Record<string, unknown>;
  checkpoints: Array<Record<string, unknown>>;
  log_tail: string[];
  stalls: number;
  progress?: { done: number; total: number; message?: string };
  data?: unknown;
  workers?: unknown;
  /** How many workers a staged run started, and why not more (`started 2 of 4 workers: …`); its later changes too. */
  ramp?: { decision: string; [field: string]: unknown };
  /** The model file the run produced, in its folder; the model store keeps its own copy. */
  artifact?: string;
  /** The model version it became and what the deploy steps made of it. */
  deployment?: unknown;
  /** A score run's summary: model version, files, rows, the class histogram or value statistics. */
  score?: ScoreSummary;
  /** The code of the error that ended it (`cancelled`, `paused_too_long`, `data_invalid`…), when it had one. */
  error_code?: ErrorCode;
  /** Why a cancelled run was cancelled. */
  cancel_reason?: CancelReason;
}
