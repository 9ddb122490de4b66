import type { ScoreOutcome, ScoreRunSpec } from "../batch-scoring/score-run-spec.ts";
import type { DataSourceSpec } from "../data/source-spec.ts";
import { EdgetrainError, type ErrorCode } from "../errors.ts";
import type { RunCapacitySettings } from "../governor/run-capacity.ts";
import type { Level } from "../log/logger.ts";
import type { TrainingClass } from "../os/thread-priority.ts";
import type { DataTable, ResolvedPaths, TrainResult } from "../plugin-api.ts";

/** Everything a training thread needs to run one strategy run; plain data, copied into the thread. */
export interface StrategyRunSpec {
  /** `built-in` or the file the plugin was loaded from: the thread imports it again. */
  plugin: { name: string; source: string };
  /** As the job wrote them; the thread's instantiate() merges `defaults` under them and parses them. */
  options: Record<string, unknown>;
  /** The profile's `defaults.strategies`. */
  defaults?: Record<string, unknown>;
  paths: ResolvedPaths;
  /** The state database file; the plugin's store opens its own connection to it. */
  stateFile: string;
  storeName: string;
  /** The run's id: the thread records the processes the strategy starts under it (none without one). */
  run?: string;
  job: string;
  key?: string;
  runDir: string;
  data?: DataSourceSpec;
  previousArtifact?: string;
  workers?: number;
  memoryLimitMb?: number;
  /** What the thread builds the request's RunCapacity from. */
  capacity?: RunCapacitySettings;
  paused: boolean;
  /** Threads the run may train on when it starts (see ThreadAllowance); undefined: all. */
  threads?: number;
  /**
   * `governor.training_class` and `training_nice`: the run's threads yield the CPU to the ones answering predictions.
   */
  priority: { class: TrainingClass; nice: number };
  /** The deploy steps score on the held-out rows: the thread sends them back with the result. */
  wantHeldOut: boolean;
  now: number;
}

export type ToThread =
  | { type: "start"; spec: StrategyRunSpec }
  | { type: "score"; spec: ScoreRunSpec }
  | { type: "pause"; paused: boolean }
  | { type: "threads"; allowed?: number }
  | { type: "abort"; reason: string };

export type FromThread =
  | { type: "log"; level: Level; message: string; fields?: Record<string, unknown> }
  | { type: "event"; name: string; data: Record<string, unknown> }
  | { type: "progress"; done: number; total: number; message?: string }
  | { type: "using"; count: number }
  | { type: "succeeded"; result: TrainResult; heldOut?: DataTable }
  | { type: "scored"; outcome: ScoreOutcome }
  | { type: "failed"; error: ThreadError };

/** An error as it crosses the thread boundary: what the run record, the CLI and the API read from it. */
export interface ThreadError {
  message: string;
  code?: ErrorCode;
  hint?: string;
  details?: Record<string, unknown>;
  /** The command strategy's per-worker reports, kept in the run record. */
  reports?: unknown;
}

export function errorToThread(error: unknown): ThreadError {
  if (!(error instanceof Error)) return { message: String(error) };
  const own = error as Error & Partial<EdgetrainError> & { reports?: unknown };
  return { message: error.message, code: own.code, hint: own.hint, details: own.details, reports: plain(own.reports) };
}

export function errorFromThread(error: ThreadError): Error {
  const rebuilt: Error & { reports?: unknown } = error.code
    ? new EdgetrainError(error.code, error.message, { hint: error.hint, details: error.details })
    : new Error(error.message);
  if (error.reports !== undefined) rebuilt.reports = error.reports;
  return rebuilt;
}

/** Reports may hold functions or handles that cannot be copied between threads; their JSON form can. */
function plain(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}
