/** What every plugin gets: its context, the services in it, and the job it belongs to. */
import type * as Valibot from "valibot";
import type * as Yaml from "yaml";

export type PluginKind = "strategy" | "trigger" | "deploy" | "cache" | "converter" | "score";

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
  /**
   * The command to spawn so that its process is killed (SIGKILL) when the thread that spawns it dies, and so
   * edgetrain, even by SIGKILL: `setpriv --pdeathsig KILL --` in front on Linux where util-linux has it; the
   * command as given elsewhere. Its children are not covered: the host stops them at its next start.
   * Example: `spawn(...libraries.diesWithEdgetrain(["python3", "train.py"], { cwd, env }))`.
   */
  diesWithEdgetrain(command: string[], options: { cwd: string; env: Record<string, string | undefined> }): string[];
  /** Temporary name, fsync, rename: never a half-written model or status file. Returns `path`. */
  writeAtomically(path: string, content: Uint8Array | string, mode?: number): string;
  /** The same for a file written in pieces (predictions of a large file): it appears whole at commit(), or never. */
  openAtomically(path: string, mode?: number): Promise<AtomicFile>;
}

/** A file being written under a temporary name (`openAtomically`). */
export interface AtomicFile {
  write(chunk: string | Uint8Array): Promise<void>;
  /** Syncs and renames: the whole file appears under its name at once. */
  commit(): Promise<void>;
  /** Removes the temporary file; harmless after commit(). */
  discard(): Promise<void>;
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
 * only the contract, so names and payloads are not checked here. A strategy reports `run.heartbeat`,
 * `run.checkpoint`, `run.log`, `run.process` and `run.stalled` (the run id is added for it), a trigger
 * `trigger.scored`; a plugin's own events should be named `plugin.NAME.EVENT`. The runtime's own
 * emitters use the typed `Events` of runtime/events/bus.ts instead. `run.process` ({ worker, pid }), emitted
 * as each process starts, also records its process group with the run: a start after a crash stops it.
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
  /** CPU used by other processes, percent of all cores; undefined when /proc/stat cannot be read: unknown, never 0. */
  cpuPercent?: number;
  /** Memory in use, percent; undefined when /proc/meminfo cannot be read: unknown, never 0. */
  memoryPercent?: number;
  temperatureC?: number;
  /** Undefined when no GPU can be read: unknown, never 0. */
  gpuPercent?: number;
  /** GPU memory in use and in all (MB), from nvidia-smi; on a Jetson (tegrastats) the RAM shared with the CPU. */
  gpuMemoryUsedMb?: number;
  gpuMemoryTotalMb?: number;
}

/** Key → one string naming a key's data files with their sizes and mtimes; `""` keys a job without keys. */
export type Fingerprints = Record<string, string>;

/** Fingerprints followed over time (`DataFiles.changes`). */
export interface SettlingChanges {
  /**
   * Takes the fingerprints seen `at` a time: returns the keys whose files changed and have kept still for
   * the debounce since, and `wakeAt`, when the next quiet period still running ends (look again then).
   */
  look(now: Fingerprints, at: number): { settled: string[]; wakeAt?: number };
}

/**
 * The job's data files as its data source keys them — sessions by subfolder, rows by file (`key_from: file`)
 * or the whole job under `""` — and change detection over them, shared with the data loader. Empty for a
 * plugin without a job.
 */
export interface DataFiles {
  /** The data source's `debounce`: how long a file must keep still before it counts as written (3s). */
  debounceMs: number;
  /** One file's size and mtime as a string (`gone` when it is not there): equal strings, the same file. */
  fingerprint(file: string): string;
  /** The job's CSV files by key. */
  filesByKey(): Record<string, string[]>;
  /** The job's files by key, fingerprinted now: an equal fingerprint means unchanged files. */
  fingerprints(): Fingerprints;
  /**
   * Follows fingerprints from `baseline`; a key settles once its files changed and kept still for
   * `debounceMs` (default: the data source's). Example: `ctx.data.changes(ctx.data.fingerprints())`.
   */
  changes(baseline: Fingerprints, debounceMs?: number): SettlingChanges;
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
  /** The job's data files and the changes in them (runtime/data/changes.ts). */
  data: DataFiles;
}

/**
 * Where a successful run's model is on its way into serving: `pending` (the run ended, the deploy has not
 * begun, or it broke on the machine and is tried again at the next start), `in_progress` (its deploy steps
 * run), `done` (they all passed), `failed` (a step refused or broke: final). Undefined for a run recorded
 * without a deploy.
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
  scoreLatest(
    key: string | undefined,
  ): Promise<{ metric: "accuracy" | "rmse"; value: number; rows: number; data: string; signature: string } | undefined>;
}
