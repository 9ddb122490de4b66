import type { ConflictAnswer } from "../conflicts/asker.ts";
import type { ImportRequest } from "../deploy/model-import.ts";
import type { EventJournal } from "../events/event-journal.ts";
import type { ModelSignature } from "../inference/model-signature.ts";
import type { PredictionRequest } from "../inference/prediction-input.ts";
import type { InferRequest } from "../serving/open-inference.ts";
import type { RunOverrides } from "../training/run-overrides.ts";
import type {
  CacheStats,
  CacheWarmed,
  Conflict,
  DaemonStatus,
  JobSummary,
  LogLine,
  ModelDetail,
  ModelImported,
  ModelSummary,
  ModelVersion,
  OffPeak,
  Prediction,
  ProfileText,
  Readiness,
  ResourceHistory,
  RunDetail,
  RunQueued,
  RunSummary,
  V2InferResponse,
} from "./contract.ts";

export type { DaemonStatus, ModelDetail } from "./contract.ts";

/**
 * What the API may read of the daemon; routes depend on this, not on the daemon itself. Answers are the contract's
 * types.
 */
export interface DaemonView {
  status(): DaemonStatus;
  /** The readings of the last hour, averaged into steps. */
  history(): ResourceHistory;
  jobs(): JobSummary[];
  /** The learned off-peak windows in words, or why there are none. */
  offPeak(): OffPeak;
  runs(filter: { job?: string; limit: number }): RunSummary[];
  run(id: string): RunDetail | undefined;
  /**
   * Cancels, pauses or resumes a run in progress; false when no such run is in progress. Throws conflict for a
   * resume of a run no request paused.
   */
  controlRun(id: string, action: "cancel" | "pause" | "resume"): boolean;
  conflicts(): Conflict[];
  /** Answers an open conflict for all its keys, or `key` alone; undefined when there is no such open question. */
  answerConflict(id: string, action: ConflictAnswer, by: string, key?: string): Conflict | undefined;
  /**
   * Queues a run of the job (all keys, or one), or gives an entry already queued what the request ignores; says what
   * became of each key. Throws not_found for an unknown job or key, already_running when every key is running.
   */
  requestRun(job: string, key: string | undefined, overrides: RunOverrides): Promise<RunQueued>;
  models(): ModelSummary[];
  /** Throws not_found for an unknown model. */
  model(name: string): ModelDetail;
  activate(name: string, version: number): Promise<ModelVersion>;
  rollback(name: string): Promise<ModelVersion>;
  predict(name: string, request: PredictionRequest): Promise<Prediction>;
  /** Stores an ONNX file as the model's next version (`source: import`), through the deploy steps when asked. */
  importModel(name: string, request: ImportRequest): Promise<ModelImported>;
  /** The serving version of a model and what it declares; not_found, or model_unavailable when it does not load. */
  modelSignature(name: string): Promise<{ version: number; signature: ModelSignature }>;
  /** Runs an Open Inference Protocol request's tensors through the serving version; counted as a prediction. */
  infer(name: string, request: InferRequest): Promise<V2InferResponse>;
  /**
   * Whether the daemon can answer, known without loading a model: its state database open and every serving
   * version (or the model's, given one) loaded or loadable. Throws not_found for an unknown model.
   */
  ready(model?: string): Promise<Readiness>;
  cacheStats(): CacheStats;
  clearCache(model?: string): void;
  /** Every bus event, numbered, for `/v1/events`: what was missed since an id, then each one as it comes. */
  follow: EventJournal["follow"];
  /** A client that follows the conflict events can answer questions until the returned function is called. */
  attend(): () => void;
  /** Pregenerates the predictions of one model or all that serve; throws not_found for an unknown model. */
  warmCache(model?: string): Promise<CacheWarmed>;
  /** The resolved profile as YAML, each value with where it came from; secrets masked. */
  profile(): ProfileText;
  /** The newest log lines, oldest first. */
  logs(filter: { limit: number; level?: "debug" | "info" | "warn" | "error"; job?: string }): LogLine[];
  /** Prometheus text exposition. */
  metrics(): Promise<{ contentType: string; text: string }>;
  /** The bearer token mutating routes (and every route on a non-loopback bind) require. */
  token(): string;
  /** Non-loopback binds require the token on every route but /health. */
  exposed(): boolean;
  /** api.allowed_hosts: Host header values answered besides loopback names. */
  allowedHosts(): readonly string[];
  /** api.cors_origins: browser origins that may read /v1 answers. */
  corsOrigins(): readonly string[];
  /** api.max_body_kb in bytes. */
  maxBodyBytes(): number;
  /** Counts a request towards edgetrain's own activity record (usage.source: self). */
  requestSeen(): void;
}
