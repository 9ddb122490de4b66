/**
 * The plugin contract. Plugins import this file with `import type` only: everything they use at run time
 * (logger, paths, state, clock, events, abort signal, progress, bundled libraries) comes through the context.
 * A compiled binary loads user plugins from disk, and such a plugin cannot import packages bundled in the
 * host, which is why even valibot is handed over (`options: ({ v }) => …`). This file therefore holds
 * types only: a value exported from here would not exist for a plugin loaded by a compiled binary.
 *
 * @example
 * ```ts
 * import type { PluginModule } from "edgetrain/runtime/plugin-api.ts";
 * export default {
 *   kind: "trigger", name: "every-minute", version: "1.0.0",
 *   options: ({ v }) => v.strictObject({ jitter: v.optional(v.number(), 0) }),
 *   setup: (ctx) => ({ watch: (fire) => { const t = ctx.clock.setInterval(() => fire({ reason: "minute" }), 60_000); return () => ctx.clock.clearInterval(t); } }),
 * } satisfies PluginModule<"trigger">;
 * ```
 */
import type * as Valibot from "valibot";
import type * as Yaml from "yaml";

export type PluginKind = "strategy" | "trigger" | "deploy" | "cache";

export type OptionsSchema = Valibot.GenericSchema;

/** Libraries bundled in the host, handed to plugins so that plugins loaded by a compiled binary can use them. */
export interface PluginLibraries {
  v: typeof Valibot;
  yaml: typeof Yaml;
  /** The profile's duration schema (`"10s"`, `"5m"`, `"6h"` or seconds) and its value in milliseconds. */
  duration: Valibot.GenericSchema<string | number, string | number>;
  durationMs(duration: string | number): number;
  /** Live (non-zombie) pids of a process group, from /proc. */
  processGroupMembers(group: number): number[];
  /** Temporary name, fsync, rename: never a half-written model or status file. Returns `path`. */
  writeAtomically(path: string, content: Uint8Array | string, mode?: number): string;
}

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger whose lines carry these fields too (job, key, run…). */
  child(fields: Record<string, unknown>): Logger;
}

/** Time, injectable so that schedules and timeouts can be tested without waiting. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(callback: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

/** A plugin's own persistent key-value store (JSON values), kept in the state database. */
export interface PluginStore {
  get<T = unknown>(key: string): T | undefined;
  set(key: string, value: unknown): void;
  delete(key: string): void;
  keys(): string[];
}

export interface ResolvedPaths {
  home: string;
  data: string;
  models: string;
  cache: string;
  logs: string;
  state: string;
  plugins: string;
}

/**
 * Events published on the daemon's bus; the API streams them to the TUI. Open on purpose: plugins see
 * only this file, so names and payloads are not checked here. A strategy reports `run.heartbeat`,
 * `run.checkpoint`, `run.process` and `run.stalled` (the run id is added for it), a trigger
 * `trigger.scored`; a plugin's own events should be named `plugin.NAME.EVENT`. The runtime's own
 * emitters use the typed `Events` of runtime/events/bus.ts instead.
 */
export interface EventSink {
  emit(type: string, data: Record<string, unknown>): void;
}

/** Progress of a long task; the CLI draws a bar, the API sends events. */
export interface ProgressReporter {
  /** `done` out of `total` units (trees, epochs, files); `message` is a short status. */
  update(done: number, total: number, message?: string): void;
}

/** Latest resource readings of the governor, read-only. */
export interface Readings {
  at: number;
  cpuPercent: number;
  memoryPercent: number;
  temperatureC?: number;
  gpuPercent?: number;
}

export interface PluginContext<Options = unknown> {
  /** The plugin's options, validated by its schema and frozen. */
  options: Readonly<Options>;
  logger: Logger;
  paths: Readonly<ResolvedPaths>;
  store: PluginStore;
  clock: Clock;
  events: EventSink;
  /** Aborted when the daemon stops or reloads this plugin. */
  signal: AbortSignal;
  progress: ProgressReporter;
  readings(): Readings | undefined;
  libraries: PluginLibraries;
  /** For triggers and deploy steps: the job they belong to. */
  job?: JobInfo;
}

/**
 * Where a successful run's model is on its way into serving: `pending` (the run ended, the deploy has not
 * begun), `in_progress` (its deploy steps run), `done` (they all passed), `failed` (a step refused or broke:
 * final). Undefined for a run recorded without a deploy.
 */
export type DeployState = "pending" | "in_progress" | "done" | "failed";

export interface JobInfo {
  name: string;
  /** The job's `data` section as written in the profile (`{ source: sessions, path: … }`). */
  data?: Readonly<Record<string, unknown>>;
  /** The keys the job trains a model each for (undefined: a job without keys). */
  keys(): Promise<Array<string | undefined>>;
  /** The latest successful run of job+key: when it ended, the model it wrote, and how far its deploy got. */
  lastSuccess(key: string | undefined): { at: number; artifact?: string; deploy?: DeployState } | undefined;
  /** The version of job+key's model that serves now; undefined when none does (never activated, or withdrawn). */
  activeVersion(key: string | undefined): number | undefined;
  /** The latest model of the key scored on the newest data it has not trained on; undefined when there is none. */
  scoreLatest(key: string | undefined): Promise<{ metric: "accuracy" | "rmse"; value: number; rows: number; data: string; signature: string } | undefined>;
}

// ---- What each kind's setup() returns ----------------------------------------------------------

/** Rows of training data: float32 features (row-major) and labels as text; the strategy types the labels. */
export interface DataTable {
  featureNames: string[];
  x: Float32Array;
  rows: number;
  labels: string[];
}

export interface DataSummary {
  /** Files the training rows came from, relative to the data folder. */
  files: string[];
  testFiles: string[];
  rows: number;
  testRows: number;
  /** Non-numeric columns left out of the features (e.g. `timestamp`). */
  excludedColumns: string[];
  /** Rows skipped under `on_bad_cell: skip-row`, each with file, line and column. */
  skipped: string[];
  /** The window, in words: `TR2–TR4 (latest 3 sessions)`, `last 6h`. */
  window?: string;
}

export interface TrainingData {
  train: DataTable;
  /** Held out by the data source (e.g. the newest session); otherwise the strategy splits `train`. */
  test?: DataTable;
  summary: DataSummary;
}

export interface TrainRequest {
  job: string;
  /** The key this run trains for (e.g. `player_7`), or undefined for a job without keys. */
  key?: string;
  /** A fresh folder for this run's files; write artifacts here under a temporary name, then rename. */
  runDir: string;
  /** The job's `data` section, as written in the profile; external trainers read their data themselves. */
  data?: Readonly<Record<string, unknown>>;
  /** Reads the training data for this key: streams the CSV files, applies the window, holds out a test set. */
  loadData(): Promise<TrainingData>;
  /** Workers the profile allows (`governor.workers`), when it says. */
  workers?: number;
  /** `governor.memory_limit_mb`: strategies running child processes watch their RSS against it. */
  memoryLimitMb?: number;
  /** The governor's pause switch: in-process strategies feel it through checkpoint(); child processes are stopped. */
  pause: PauseState;
  /**
   * How many of the run's threads (or trainer processes) may train now: the governor lowers it while the API
   * answers many predictions, so serving keeps a core. In-process strategies feel it through checkpoint(worker).
   */
  threads: TrainingThreads;
  /** The active version's artifact, for warm starts. */
  previousArtifact?: string;
  signal: AbortSignal;
  progress: ProgressReporter;
  /**
   * Strategies call this between trees or epochs: it resolves when the run may go on (after a pause),
   * and throws when the run was cancelled or passed `governor.memory_limit_mb`. A strategy training on
   * several threads passes the calling thread's index (0, 1, …): thread n also waits while fewer than
   * n + 1 threads may train. Thread 0 always may.
   */
  checkpoint(worker?: number): Promise<void>;
}

export interface PauseState {
  readonly paused: boolean;
  /** Calls `listener` on every change; returns a function that unsubscribes. */
  subscribe(listener: (paused: boolean) => void): () => void;
}

export interface TrainingThreads {
  /** Threads the run may train on now; undefined: as many as it has. Never below 1. */
  readonly allowed: number | undefined;
  /** Calls `listener` on every change; returns a function that unsubscribes. */
  subscribe(listener: (allowed: number | undefined) => void): () => void;
}

export interface TrainResult {
  /** Path of the ONNX model written inside runDir. */
  artifact: string;
  metrics: Record<string, number>;
  /** Anything the model store should keep with the version: feature names, classes, data window… */
  metadata?: Record<string, unknown>;
}

export interface StrategyHooks {
  train(request: TrainRequest): Promise<TrainResult>;
}

export interface TriggerFire {
  /** Keys that need a run; undefined means every key of the job. */
  keys?: string[];
  reason: string;
}

export interface TriggerHooks {
  /** Starts watching; returns a function that stops it. */
  watch(fire: (event: TriggerFire) => void): (() => void) | void;
}

/** A model version's score on held-out rows: accuracy (higher is better) or RMSE (lower is better). */
export interface VersionScore {
  metric: "accuracy" | "rmse";
  value: number;
  rows: number;
}

/** What conflicts.predictors says about writing a job's files now (copy-to-dir). */
export interface PredictorClearance {
  clear: boolean;
  /** Why not, or what was forced past: predictor names, pids, lockfiles. */
  message?: string;
}

/** A freshly trained version on its way to serving, and what deploy steps may do with it. */
export interface DeployCandidate {
  model: string;
  version: number;
  /** The version's ONNX file inside the model store. */
  artifact: string;
  metrics: Record<string, number>;
  /** The version serving now, if any. */
  previousVersion?: number;
  job: string;
  key?: string;
  /**
   * The version serving now when its file is damaged (gone, or not matching its sha256): it cannot be
   * scored, so there is nothing to compare against. Undefined when it is whole, or none serves.
   */
  damagedActive(): Promise<{ version: number; file: string; problem: string } | undefined>;
  /** Scores a version of this model (default: the candidate) on the held-out rows of this run; undefined without them. */
  score(version?: number): Promise<VersionScore | undefined>;
  /** Makes the candidate serve: preloads it, switches the pointer, health-checks, and rolls back by itself on error. */
  activate(): Promise<void>;
  /** Restores the version that served before; records why. */
  rollback(reason: string): Promise<void>;
  /** Marks the candidate rejected (kept, not served) with the scores that decided. */
  reject(reason: string, gate?: Record<string, unknown>): void;
  /** Keeps a step's findings (a passed gate's scores) with the version. */
  note(gate: Record<string, unknown>): void;
  /** Waits for the job's live predictors (constraints.not_during) by its conflict policy before writing files others read. */
  clearOfPredictors(): Promise<PredictorClearance>;
}

export interface DeployOutcome {
  ok: boolean;
  message?: string;
  /** True when the step already rolled back its own change. */
  rolledBack?: boolean;
}

export interface DeployHooks {
  deploy(candidate: DeployCandidate): Promise<DeployOutcome>;
}

export interface CacheStats {
  entries: number;
  hits: number;
  misses: number;
}

export interface CacheHooks {
  get(key: string): unknown | undefined;
  /** `value` is JSON data: a cache may keep it as JSON text (on disk, or in memory as bytes) and give back an equal copy. */
  set(key: string, value: unknown, ttlMs: number): void;
  delete(key: string): void;
  /** Removes every entry, or those of one model (keys start with `model/`). */
  clear(model?: string): void;
  stats(): CacheStats;
  /** Finishes writes still under way in the background; the daemon awaits it before it stops. */
  flush?(): Promise<void>;
}

export interface HooksOf {
  strategy: StrategyHooks;
  trigger: TriggerHooks;
  deploy: DeployHooks;
  cache: CacheHooks;
}

export interface PluginModule<K extends PluginKind = PluginKind, S extends OptionsSchema = OptionsSchema> {
  kind: K;
  /** Unique among plugins of its kind; what profiles write (`strategy: random-forest`). */
  name: string;
  version: string;
  description?: string;
  /** The schema of the plugin's options; use strict objects so misspelled keys are caught. */
  options: (libraries: PluginLibraries) => S;
  setup(context: PluginContext<Valibot.InferOutput<S>>): HooksOf[K] | Promise<HooksOf[K]>;
}

/** The options type of a plugin's `options` schema factory: `PluginContext<OptionsOf<typeof options>>`. */
export type OptionsOf<F extends (libraries: PluginLibraries) => OptionsSchema> = Valibot.InferOutput<ReturnType<F>>;
