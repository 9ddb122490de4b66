/** Messages between the daemon and its scoring thread (runtime/inference/scoring-worker.ts). */

import type { TrainingClass } from "../training/thread-priority.ts";

export interface ScoringRuntime {
  preference: "auto" | "native" | "wasm";
  /** Where ONNX Runtime's embedded libraries are extracted (`paths.cache`). */
  cacheDir: string;
  threads: number;
  /** `governor.training_class` and `training_nice`: scoring is a run's work, and yields to serving as training does. */
  priority: { class: TrainingClass; nice: number };
}

export interface ScoreRequest {
  id: number;
  runtime: ScoringRuntime;
  /** The model file; the thread loads it in a session of its own. */
  path: string;
  /** Rows in the model's feature order. */
  x: Float32Array;
  rows: number;
  width: number;
  /** Class names by index, for models whose labels are indices. */
  classes: string[];
}

export type ScoreReply =
  | { id: number; ok: true; predicted: Array<string | number | undefined> }
  | { id: number; ok: false; message: string };
