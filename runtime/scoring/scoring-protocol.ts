/** Messages between the daemon and its scoring thread (runtime/scoring/scoring-worker.ts). */

import type { ModelDescription } from "../inference/model-metadata.ts";
import type { TrainingClass } from "../os/thread-priority.ts";

export interface ScoringRuntime {
  preference: "auto" | "native" | "wasm";
  /** Where ONNX Runtime's embedded libraries are extracted (`paths.cache`). */
  cacheDir: string;
  threads: number;
  /** `governor.training_class` and `training_nice`: scoring is a run's work, and yields to serving as training does. */
  priority: { class: TrainingClass; nice: number };
}

export interface ScoreRequest {
  kind: "score";
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

/** The feature names and classes edgetrain stored in a model file: decoding a forest's protobuf takes milliseconds. */
export interface DescribeRequest {
  kind: "describe";
  id: number;
  runtime: ScoringRuntime;
  path: string;
}

export type ScoringRequest = ScoreRequest | DescribeRequest;

export type ScoreReply =
  | { id: number; ok: true; predicted: Array<string | number | undefined> }
  | { id: number; ok: true; description: ModelDescription | null }
  | { id: number; ok: false; message: string };
