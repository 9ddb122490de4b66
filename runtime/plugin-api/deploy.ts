/** What a deploy step's setup() returns, and the candidate version it acts on. */
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

/** What became of a file placed for predictors that read files: written now, or pending until they go quiet. */
export interface PlacedFile {
  written: boolean;
  /** Kept in the state database and retried each time the job's predictors go quiet. */
  pending: boolean;
  /** `wrote …`, or why it waits. */
  message: string;
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
  /**
   * Scores a version of this model (default: the candidate) on the held-out rows of this run; undefined without them.
   */
  score(version?: number): Promise<VersionScore | undefined>;
  /** Makes the candidate serve: preloads it, switches the pointer, health-checks, and rolls back by itself on error. */
  activate(): Promise<void>;
  /** Restores the version that served before; records why. */
  rollback(reason: string): Promise<void>;
  /** Marks the candidate rejected (kept, not served) with the scores that decided. */
  reject(reason: string, gate?: Record<string, unknown>): void;
  /** Keeps a step's findings (a passed gate's scores) with the version. */
  note(gate: Record<string, unknown>): void;
  /**
   * Waits for the job's live predictors (constraints.not_during) by its conflict policy before writing files others
   * read.
   */
  clearOfPredictors(): Promise<PredictorClearance>;
  /**
   * Writes the candidate's file at `target` atomically, first keeping the file it replaces at `previous`,
   * once the job's live predictors allow it (its conflict policy, as clearOfPredictors). When they do not,
   * the copy is kept pending in the state database and retried each time they go quiet, until it is written
   * or a newer copy to the same target supersedes it. Each later activation of the model puts the serving
   * version's file there; a rollback puts the replaced file back.
   * @example await candidate.placeFile("/srv/models/player_1.onnx", "/srv/previous/player_1.onnx")
   */
  placeFile(target: string, previous?: string): Promise<PlacedFile>;
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
