/**
 * The daemon's HTTP API as its clients see it: what each route answers, the events of `/v1/events` and
 * the error body. Types only: the TUI imports this file and no other part of the runtime. The CLI and
 * the TUI talk to the daemon with Eden's `treaty<App>(url)`, typed by the app itself. docs/api.md tells
 * the same in words; GET /openapi as an OpenAPI 3.1 document.
 */
import type { InferOutput } from "valibot";
import type { ScoreSummary } from "../batch-scoring/score-summary.ts";
import type { CancelReason, ErrorCode } from "../errors.ts";
import type * as schema from "./response-schemas.ts";

export type { App } from "./app.ts";
/** The fleet hub's answers (`edgetrain hub`). */
export type * from "./fleet-contract.ts";

/**
 * Every error, whatever its status: `{code, message, hint?, ...details}`; details are facts such as the field or the
 * run.
 */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  hint?: string;
  [detail: string]: unknown;
}

/** `GET /health`. */
export type Health = InferOutput<typeof schema.Health>;
/** `GET /ready`, `GET /v2/health/ready`: models loaded and the state database open. */
export type Readiness = InferOutput<typeof schema.Readiness>;
/** `GET /v1/status`: what the daemon is, runs and knows. */
export type DaemonStatus = InferOutput<typeof schema.DaemonStatus>;
export type DiskStatus = InferOutput<typeof schema.DiskStatus>;
/** `GET /v1/history`: the governor's readings over the last hour, averaged into steps, oldest first. */
export type ResourceHistory = InferOutput<typeof schema.ResourceHistory>;
/** `GET /v1/cache`. */
export type CacheStats = InferOutput<typeof schema.CacheStats>;
/** `DELETE /v1/cache[?model=NAME]`. */
export type CacheCleared = InferOutput<typeof schema.CacheCleared>;
/** `POST /v1/cache/warm[?model=NAME]`. */
export type CacheWarmed = InferOutput<typeof schema.CacheWarmed>;

/** `GET /v1/jobs`. */
export type JobList = InferOutput<typeof schema.JobList>;
export type JobSummary = InferOutput<typeof schema.JobSummary>;
/** The learned off-peak windows in words, or why there are none. */
export type OffPeak = InferOutput<typeof schema.OffPeak>;
/** `POST /v1/jobs/:name/run`: 202 when it queued (or upgraded) a run, 200 when there was nothing to add. */
export type RunQueued = InferOutput<typeof schema.RunQueued>;

/** `GET /v1/runs`, newest first. */
export type RunList = InferOutput<typeof schema.RunList>;
export type RunSummary = InferOutput<typeof schema.RunSummary>;
/** `GET /v1/runs/:id`. */
export type RunDetail = InferOutput<typeof schema.RunDetail>;
/** `POST /v1/runs/:id/:action`. */
export type RunControlled = InferOutput<typeof schema.RunControlled>;

/** `GET /v1/models`. */
export type ModelList = InferOutput<typeof schema.ModelList>;
export type ModelSummary = InferOutput<typeof schema.ModelSummary>;
/** `GET /v1/models/:name`. */
export type ModelDetail = InferOutput<typeof schema.ModelDetail>;
export type ModelVersion = InferOutput<typeof schema.ModelVersion>;
/** `POST /v1/models/:name/activate`. */
export type ModelActivated = InferOutput<typeof schema.ModelActivated>;
/** `POST /v1/models/:name/rollback`. */
export type ModelRolledBack = InferOutput<typeof schema.ModelRolledBack>;
/** `POST /v1/models/:name/versions` (201): an imported ONNX file stored, and deployed when asked. */
export type ModelImported = InferOutput<typeof schema.ModelImported>;
/** Open Inference Protocol: `GET /v2`, `GET /v2/models/:name`, `…/ready`, `POST /v2/models/:name/infer`. */
export type V2ServerMetadata = InferOutput<typeof schema.V2ServerMetadata>;
export type V2ModelMetadata = InferOutput<typeof schema.V2ModelMetadata>;
export type V2ModelReady = InferOutput<typeof schema.V2ModelReady>;
export type V2InferResponse = InferOutput<typeof schema.V2InferResponse>;
/** `POST /v1/predict/:name`. */
export type Prediction = InferOutput<typeof schema.Prediction>;

/** `GET /v1/conflicts`. */
export type ConflictList = InferOutput<typeof schema.ConflictList>;
/** An open question to a person; `POST /v1/conflicts/:id` answers with it. */
export type Conflict = InferOutput<typeof schema.Conflict>;
/** `GET /v1/profile`. */
export type ProfileText = InferOutput<typeof schema.ProfileText>;
/** `GET /v1/logs`. */
export type LogList = InferOutput<typeof schema.LogList>;
export type LogLine = InferOutput<typeof schema.LogLine>;

type RunRef = { run: string };
type JobKey = { job: string; key?: string | null };
type Deployment = {
  model: string;
  /** Absent when the deploy failed before the store had the model. */
  version?: number;
  status: "activated" | "rejected" | "stored" | "failed";
  message?: string;
  /** Failed on the machine (EACCES, ENOSPC, EIO…): the deploy stays pending and is tried again at the next start. */
  retry_at_start?: boolean;
  steps: Array<{ step: string; ok: boolean; message?: string; rolled_back?: boolean }>;
};
/** A model file placed for predictors that read files (copy-to-dir); `restore`: the replaced file put back. */
type CopyRef = { model: string; version: number; target: string; restore?: boolean };
/** A figure that cannot be read is absent: unknown, never 0. */
type Reading = {
  cpuPercent?: number;
  memoryPercent?: number;
  totalCpuPercent?: number;
  ownCpuPercent?: number;
  load1: number;
  gpuPercent?: number;
  gpuMemoryUsedMb?: number;
  gpuMemoryTotalMb?: number;
  gpuUnreadable?: boolean;
  temperatureC?: number;
  diskPercent?: number;
  predictionsPerSecond?: number;
};

/** The window behind a latency guard decision: its p99, the target and the idle p99 the target came from. */
type LatencyFigures = { p99_ms?: number; target_ms?: number; idle_p99_ms?: number; windows: number; window_s: number };

/** The payload of each event of `/v1/events`, by its type (the SSE `event:` field). */
export type EventPayloads = {
  "governor.reading": Reading;
  "governor.paused": { reason: string; runs: number };
  "governor.resumed": { after: string; runs: number };
  "governor.max_pause": RunRef & { paused_ms: number };
  "governor.sparing_core": { reason: string; threads_per_run?: number };
  "governor.core_returned": { after: string; runs: number };
  /**
   * The latency guard took a training thread away, or past one thread a share of the time (`duty`: 0.75, 0.5, 0.25);
   * threads_per_run 0: runs paused. The figures in ms.
   */
  "governor.throttled": LatencyFigures & { threads_per_run: number; duty?: number; runs: number; reason: string };
  /** It gave one back (threads_per_run absent: all), or lifted its hold once no run trained. */
  "governor.released": LatencyFigures & { threads_per_run?: number; duty?: number; runs: number; reason: string };
  "trigger.fired": { job: string; reason: string; keys: Array<string | null> | "all" };
  "trigger.scored": JobKey & { metric: string; value: number; rows: number; bad: boolean; [field: string]: unknown };
  "run.starting": JobKey & { reason: string };
  "run.started": RunRef & JobKey & { strategy: string; trigger: string; max_runtime?: string };
  /** 90 % of the run's max_runtime has passed: it is cancelled at 100 %. */
  "run.max_runtime_near": RunRef & JobKey & { max_runtime: string; remaining_ms: number };
  "run.progress": RunRef & JobKey & { done: number; total: number; message?: string };
  "run.heartbeat": RunRef & { worker?: string; [field: string]: unknown };
  "run.checkpoint": RunRef & { worker?: string; path: string; metrics: Record<string, number> };
  /** A line of a trainer's log (command strategy), as it is written. */
  "run.log": RunRef & { worker?: string | number; line: string };
  "run.process": RunRef & { worker: string; pid: number };
  "run.stalled": RunRef & { worker: string; pid: number; silent_s: number };
  /** A staged run's decision: how many workers it started and why not more, or a worker stopped as memory tightened. */
  "run.ramp": RunRef & { decision: string; started: number; workers: number; [field: string]: unknown };
  "run.cancel_requested": RunRef & { by: string };
  "run.paused": RunRef & { by: string };
  "run.resumed": RunRef & { by: string };
  "run.finished": RunRef &
    JobKey & {
      status: "succeeded" | "failed" | "cancelled";
      metrics?: Record<string, number>;
      artifact?: string;
      error?: string;
      cancel_reason?: CancelReason;
      deployment?: Deployment;
    };
  "run.deferred": JobKey & { reason: string; queued?: number };
  "run.skipped": JobKey & { reason: string };
  "run.interrupted": RunRef & JobKey;
  /**
   * A score job's run scored rows: the model version, the files, and the class histogram or value
   * statistics, for drift detection. A fleet agent forwards it to the hub.
   */
  "score.summary": RunRef & JobKey & ScoreSummary;
  "model.version_added": { model: string; version: number; metrics: Record<string, number> };
  "model.activated": { model: string; version: number; previous: number | null };
  "model.rolled_back": { model: string; from: number; to: number; reason: string };
  "model.rollback_done": { model: string; version: number; reason: string };
  "model.withdrawn": { model: string; version: number; reason: string };
  "model.rejected": { model: string; version: number; reason: string; gate?: Record<string, unknown> };
  "model.pruned": { model: string; version: number };
  "model.deployed": Deployment;
  "model.loaded": { model: string; version: number; provider: string };
  "model.unloaded": { model: string; version: number; reason: string };
  "conflict.met": JobKey & { predictors: Conflict["predictors"]; policy: string };
  "conflict.asked": Conflict;
  "conflict.answered": { conflict: string; answer: "wait" | "skip" | "force"; by?: string; job?: string; key?: string };
  "conflict.forced": JobKey & { predictors: Conflict["predictors"] };
  "conflict.cleared": JobKey & { waited_ms: number };
  "conflict.stale_lock_removed": { lockfile: string; pid?: number };
  /** Live predictors hold the copy up: it is kept and retried each time they go quiet. */
  "copy.pending": CopyRef & { reason: string };
  /**
   * A deploy step waits up to max_wait for the job's live predictors before it writes the file `target`
   * (copy-to-dir), or files it does not name: the run is over, its model's copy is what waits.
   */
  "copy.waiting": { model: string; version: number; target?: string; reason: string };
  /** Written, at the first attempt or a later one. */
  "copy.written": CopyRef & { attempts: number };
  /** A pending copy given up: a newer one to the same file, or another version of its model serving now. */
  "copy.superseded": CopyRef & { reason: string };
  "offpeak.learned": { windows: string[]; points: number; note?: string };
  "offpeak.unknown": JobKey & { reason: string };
  "disk.full": DiskStatus;
  "disk.space_back": DiskStatus;
  /** A log line at info or above, as the log file has it. */
  log: LogLine;
  /**
   * Sent by `/v1/events` alone, first, to a client whose Last-Event-ID cannot be replayed: older than the
   * events held (`too_old`), or not of this daemon run (`unknown_id`). Its id is the newest: what was
   * missed is lost, so re-read the state (status, runs, models) and go on from here.
   */
  reset: {
    reason: "too_old" | "unknown_id";
    requested: number;
    oldest: number | null;
    newest: number;
    message: string;
  };
};
export type EventType = keyof EventPayloads;

/**
 * One event of `/v1/events`; `data.at` is when it happened (ISO 8601), `id` its place in the daemon run
 * (what a client sends back as Last-Event-ID when it reconnects).
 */
export type DaemonEvent = {
  [T in EventType]: { type: T; id?: number; data: EventPayloads[T] & { at: string } };
}[EventType];
