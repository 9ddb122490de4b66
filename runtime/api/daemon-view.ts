import type { ConflictAnswer, OpenConflict } from "../conflicts/conflict-desk.ts";
import type { BusEvent } from "../events/bus.ts";
import type { DiskStatus } from "../files/disk-space.ts";
import type { LogLine } from "../log/logger.ts";
import type { PredictionRequest } from "../inference/prediction-input.ts";
import type { SessionCounts } from "../inference/session-pool.ts";
import type { CacheStats } from "../plugin-api.ts";
import type { Prediction } from "../serving/prediction-service.ts";
import type { RunDetail, RunSummary } from "../state/runs.ts";
import type { ModelSummary, ModelVersion } from "../store/model-store.ts";

/** What the API may read of the daemon; routes depend on this, not on the daemon itself. */
export interface DaemonStatus {
  version: string;
  pid: number;
  started_at: string;
  uptime_s: number;
  profile: { name: string; files: string[]; loaded_at: string };
  device: { name: string; kind: string; accelerator: string };
  home: string;
  plugins: Array<{ kind: string; name: string; version: string; source: string }>;
  jobs: Array<{ name: string; strategy: string; enabled: boolean }>;
  state: { schema_version: number };
  governor: {
    paused: boolean;
    reason: string;
    /** Runs leave a core to serving while predictions come faster than spare_core_predictions_per_s. */
    sparing_core: boolean;
    sparing_reason: string;
    threads_per_run: number | null;
    readings?: Record<string, unknown>;
    limits: Record<string, unknown>;
  };
  queue: Array<{ job: string; key?: string; reason: string; priority: number; queued_at: string }>;
  running: number;
  runs: Array<{ id: string; job: string; key: string | null; status: string; progress: number | null; message: string | null; started_at: number | null }>;
  models: { count: number; active: number; loaded: Array<{ model: string; version: number; provider: string }> };
  /**
   * ONNX Runtime calls and the rows they ran since the start (rows per call is the batch size under load),
   * and the sessions: kept, their estimated memory against the budget, loads, loads not kept, evictions.
   */
  inference: { calls: number; rows: number; sessions: SessionCounts };
  cache: CacheStats & { hit_rate: number; type: string };
  /** Whether the home's disk is full: then no run starts, predictions go on, and writes wait for space. */
  disk: DiskStatus;
}

export interface ModelDetail {
  model: string;
  active?: number;
  versions: ModelVersion[];
  feature_names?: string[];
  classes?: string[];
}

export interface DaemonView {
  status(): DaemonStatus;
  jobs(): Array<{ name: string; strategy: string; enabled: boolean; priority: number; triggers: string[]; last_run?: RunSummary; next?: string; why: string }>;
  /** The learned off-peak windows in words, or why there are none. */
  offPeak(): { windows: string[]; note?: string };
  runs(filter: { job?: string; limit: number }): RunSummary[];
  run(id: string): RunDetail | undefined;
  /** Cancels, pauses or resumes a run in progress; false when no such run is in progress. */
  controlRun(id: string, action: "cancel" | "pause" | "resume"): boolean;
  conflicts(): OpenConflict[];
  /** Answers an open conflict; undefined when there is no such open question. */
  answerConflict(id: string, action: ConflictAnswer, by: string): OpenConflict | undefined;
  /** Queues a run of the job (all keys, or one); resolves once queued. Throws not_found for an unknown job or key. */
  requestRun(job: string, key: string | undefined, force: boolean): Promise<void>;
  models(): ModelSummary[];
  /** Throws not_found for an unknown model. */
  model(name: string): ModelDetail;
  activate(name: string, version: number): Promise<ModelVersion>;
  rollback(name: string): Promise<ModelVersion>;
  predict(name: string, request: PredictionRequest): Promise<Prediction>;
  cacheStats(): DaemonStatus["cache"];
  clearCache(model?: string): void;
  /** Every bus event, for `/v1/events`; returns the unsubscribe function. */
  subscribe(listener: (event: BusEvent) => void): () => void;
  /** The resolved profile as YAML, each value with where it came from; secrets masked. */
  profile(): { name: string; files: string[]; text: string };
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
  /** api.max_body_kb in bytes. */
  maxBodyBytes(): number;
  /** Counts a request towards edgetrain's own activity record (usage.source: self). */
  requestSeen(): void;
}
