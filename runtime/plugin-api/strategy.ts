/** What a strategy plugin's setup() returns, and the training data and results it deals in. */
import type { ProgressReporter } from "./context.ts";

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
  /** `governor.memory_limit_mb`: the run as a whole; strategies running child processes watch their RSS against it. */
  memoryLimitMb?: number;
  /** Room for more trainer processes, for strategies that start their workers in stages; absent in `fit` and tests. */
  capacity?: RunCapacity;
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

/**
 * What a strategy weighs its workers' needs against before starting more (`ramp: probe`) and while they run.
 * Readings come from the host (/proc, nvidia-smi), so a plugin never reads the machine itself.
 */
export interface RunCapacity {
  /** `governor.memory_reserve_mb`: memory left free for the system. */
  memoryReserveMb: number;
  /** `governor.gpu_memory_fraction` (0–1): share of the GPU's memory the run may fill. */
  gpuMemoryFraction: number;
  /** `governor.max_pause`: a worker stopped for memory longer than this is cancelled. */
  maxPauseMs: number;
  /** Memory the system can still give without swapping (MemAvailable), MB. */
  availableMemoryMb(): number;
  /**
   * GPU memory held by these processes, and in use and in all on the GPU, MB; undefined where the GPU cannot
   * be read per process (no nvidia-smi; a Jetson's GPU shares the RAM, which RSS already counts).
   */
  gpuMemory(pids: number[]): Promise<{ processesMb: number; usedMb: number; totalMb: number } | undefined>;
}

export interface PauseState {
  readonly paused: boolean;
  /** Calls `listener` on every change; returns a function that unsubscribes. */
  subscribe(listener: (paused: boolean) => void): () => void;
}

export interface TrainingThreads {
  /**
   * Threads the run may train on now; undefined: as many as it has. 0 while the latency guard rests the run between
   * training stretches: no thread trains, yet the run is not paused (checkpoint() waits through it).
   */
  readonly allowed: number | undefined;
  /** Calls `listener` on every change; returns a function that unsubscribes. */
  subscribe(listener: (allowed: number | undefined) => void): () => void;
  /**
   * Tells the governor how many threads or trainer processes the run trains on now, so that its latency
   * guard can take them away one at a time. Threads that pass their index to checkpoint() are counted
   * without it; a strategy that starts processes calls it as they start and end.
   */
  using(count: number): void;
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
