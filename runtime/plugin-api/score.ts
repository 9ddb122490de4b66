/** What a score plugin's setup() returns, and the model, batches and results of batch scoring. */

/** Rows of one data file, in the model's feature order; its arrays are reused for the next batch. */
export interface ScoreBatch {
  rows: number;
  /** Row-major, rows × the model's features. */
  x: Float32Array;
  /** The line each row starts on, in the file. */
  lines: Uint32Array;
  /** The columns asked for in `batches({ columns })`, as text, per row. */
  columns: Record<string, string[]>;
}

/** A batch's answers by column: a class per row (with each class's probability), or a value per row. */
export interface BatchPredictions {
  rows: number;
  /** Classification: each row's class. */
  labels?: string[];
  /** Classification, where the model gives them: rows × `classes.length`, row-major. */
  probabilities?: Float32Array;
  /** Regression: each row's value. */
  values?: Float32Array;
}

/** The version that scores: the model's active one when the run started. */
export interface ScoringModel {
  name: string;
  version: number;
  task: "classification" | "regression";
  featureNames: string[];
  classes: string[];
  /** Runs a batch through ONNX Runtime; every answer also counts in the run's summary. */
  predict(batch: ScoreBatch): Promise<BatchPredictions>;
}

/** A data file to score. */
export interface ScoreInput {
  /** Its path. */
  file: string;
  /** Relative to the data folder, as messages show it (`incoming/day-7.csv`). */
  name: string;
  /**
   * Streams the file in batches, with bounded memory whatever its size. Between batches the run waits
   * while the governor pauses it and stops when it is cancelled; progress (rows, rate) is reported for it.
   * A bad cell fails the run with file, line and column, or skips its row (`data.on_bad_cell`).
   */
  batches(options?: { columns?: readonly string[] }): AsyncIterable<ScoreBatch>;
}

export interface ScoreRequest {
  job: string;
  /** The key this run scores for (e.g. `player_7`), or undefined for a job without keys. */
  key?: string;
  /** A fresh folder for this run's own files. */
  runDir: string;
  model: ScoringModel;
  /** The key's data files that this job has not scored yet (new, or changed since). */
  files: ScoreInput[];
  signal: AbortSignal;
}

export interface ScoredFile {
  /** The data file, and the file the predictions went to. */
  input: string;
  output: string;
  rows: number;
}

export interface ScoreResult {
  /** The files scored; a file left out is scored again by the next run. */
  files: ScoredFile[];
}

export interface ScoreHooks {
  /** Writes the predictions somewhere; write each output under a temporary name and rename it (`openAtomically`). */
  score(request: ScoreRequest): Promise<ScoreResult>;
}
