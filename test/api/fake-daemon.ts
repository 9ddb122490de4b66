import type { Conflict, DaemonStatus, ModelVersion, RunDetail } from "../../runtime/api/contract.ts";
import type { DaemonView } from "../../runtime/api/daemon-view.ts";
import { runRequestAnswer } from "../../runtime/api/run-request-answer.ts";
import { EdgetrainError } from "../../runtime/errors.ts";
import type { BusEvent, EventPayloads, EventType } from "../../runtime/events/bus.ts";
import { EventJournal } from "../../runtime/events/event-journal.ts";

export const TOKEN = "fake-daemon-token-0123456789";

export const version = (n: number, status: ModelVersion["status"]): ModelVersion => ({
  model: "activity-player_1",
  version: n,
  status,
  path: `/home/models/activity-player_1/v${n}/model.onnx`,
  job: "activity",
  key: "player_1",
  run: `r${n}`,
  task: "classification",
  feature_names: ["hr", "cadence"],
  classes: ["rest", "run"],
  metrics: { accuracy: 0.8 + n / 100 },
  created_at: `2026-12-0${n}T10:00:00.000Z`,
  sha256: "ab".repeat(32),
});

export const RUN: RunDetail = {
  id: "r2",
  job: "activity",
  key: "player_1",
  strategy: "random-forest",
  trigger: "manual: API",
  status: "running",
  created_at: 1_796_000_000_000,
  started_at: 1_796_000_001_000,
  ended_at: null,
  progress: 0.5,
  message: "tree 5 of 10",
  metrics: null,
  error: null,
  details: { checkpoints: [] },
  run_dir: "/home/runs/r2",
};

export const CONFLICT: Conflict = {
  id: "c1",
  job: "activity",
  key: "player_1",
  keys: ["player_1"],
  summary: "job activity for player_1 waits for live-predictor",
  predictors: [{ name: "live-predictor", found: "lockfile", pid: 42, lockfile: "/home/locks/predictor.lock" }],
  asked_at: 1_796_000_000_000,
  deadline: 1_796_000_060_000,
  default_answer: "wait",
};

export const STATUS: DaemonStatus = {
  version: "0.1.0",
  pid: 4242,
  started_at: "2026-12-04T10:00:00.000Z",
  uptime_s: 60,
  profile: { name: "base", files: ["profiles/base.yaml"], loaded_at: "2026-12-04T10:00:00.000Z" },
  device: { name: "test box", kind: "generic", accelerator: "none" },
  home: "/home",
  plugins: [{ kind: "cache", name: "memory", version: "1.0.0", source: "built-in" }],
  jobs: [{ name: "activity", strategy: "random-forest", enabled: true }],
  state: { schema_version: 7 },
  governor: {
    paused: false,
    reason: "",
    admitting: true,
    admission: "",
    sparing_core: false,
    sparing_reason: "",
    threads_per_run: null,
    latency_guard: {
      enabled: true,
      threads_per_run: null,
      duty: null,
      reason: "",
      p99_ms: 1.2,
      target_ms: 3,
      idle_p99_ms: 2,
      answers: 500,
    },
    readings: { cpuPercent: 12, memoryPercent: 40 },
    limits: { pause_cpu: 90 },
  },
  queue: [
    { job: "activity", key: "player_2", reason: "manual: API", priority: 0, queued_at: "2026-12-04T10:00:30.000Z" },
  ],
  running: 1,
  runs: [
    {
      id: "r2",
      job: "activity",
      key: "player_1",
      status: "running",
      progress: 0.5,
      message: "tree 5 of 10",
      started_at: 1_796_000_001_000,
    },
  ],
  models: { count: 1, active: 1, loaded: [{ model: "activity-player_1", version: 1, provider: "cpu" }] },
  inference: {
    calls: 3,
    rows: 9,
    sessions: { loaded: 1, bytes: 2_000_000, budget_bytes: 536_870_912, loads: 1, not_kept: 0, evictions: 0 },
  },
  cache: { entries: 2, hits: 5, misses: 3, hit_rate: 0.625, type: "memory" },
  disk: { home: "/home", full: false, free_bytes: 1e9, waiting_writes: 0, dropped_writes: 0 },
  copies: [],
  conflicts: { open: 1, clients: 0, asking: true },
};

const noModel = (name: string) =>
  new EdgetrainError("not_found", `no model "${name}"`, {
    hint: "edgetrain models lists them",
    details: { model: name },
  });

/**
 * A daemon behind the API with fixed answers, for `createApp(view).handle(...)`: what each route must pass on
 * and turn into errors. `calls` records what the routes asked of it; `overrides` replaces any method.
 */
export function fakeDaemon(overrides: Partial<DaemonView> = {}, options: { eventBuffer?: number } = {}) {
  const calls: unknown[][] = [];
  /** Numbered as the daemon numbers them, from a start time of 1000 ms; `eventBuffer` of them kept. */
  const journal = new EventJournal(() => options.eventBuffer ?? 1000, 1000);
  const versions = [version(2, "active"), version(1, "retired")];
  const view: DaemonView = {
    status: () => STATUS,
    history: () => ({
      step_s: 30,
      span_s: 3600,
      points: [{ at: "2026-12-04T10:00:00.000Z", cpu_percent: 12, memory_percent: 40 }],
    }),
    jobs: () => [
      {
        name: "activity",
        strategy: "random-forest",
        enabled: true,
        priority: 0,
        triggers: ["manual"],
        last_run: RUN,
        next: "on request",
        why: "manual trigger only",
      },
    ],
    offPeak: () => ({ windows: [], note: "not learned yet" }),
    runs: (filter) => (calls.push(["runs", filter]), [RUN]),
    run: (id) => (id === RUN.id ? RUN : undefined),
    controlRun: (id, action) => (calls.push(["controlRun", id, action]), RUN.status === "running"),
    conflicts: () => [CONFLICT],
    answerConflict: (id, action, by) => (
      calls.push(["answerConflict", id, action, by]),
      id === CONFLICT.id ? { ...CONFLICT, answer: action, answered_by: by } : undefined
    ),
    requestRun: async (job, key, overrides) => {
      calls.push(["requestRun", job, key, overrides]);
      if (job === "busy")
        throw new EdgetrainError("deferred", "job busy deferred: the disk of the home is full", {
          hint: "free space on it",
        });
      if (job !== "activity")
        throw new EdgetrainError("not_found", `no job "${job}" in the profile (did you mean "activity"?)`, {
          details: { job },
        });
      // Each key is queued anew, as the daemon's scheduler does for a job with nothing waiting.
      return runRequestAnswer({ job, key, overrides }, [{ key: key ?? "player_1", result: "queued" }], []);
    },
    models: () => [
      {
        model: "activity-player_1",
        active: 2,
        versions: 2,
        latest: 2,
        job: "activity",
        key: "player_1",
        metrics: { accuracy: 0.82 },
        activated_at: "2026-12-02T10:00:00.000Z",
      },
    ],
    model: (name) => {
      if (name !== "activity-player_1") throw noModel(name);
      return { model: name, active: 2, versions, feature_names: ["hr", "cadence"], classes: ["rest", "run"] };
    },
    activate: async (name, n) => {
      calls.push(["activate", name, n]);
      if (name !== "activity-player_1") throw noModel(name);
      const found = versions.find((v) => v.version === n);
      if (!found)
        throw new EdgetrainError("not_found", `model ${name} has no version ${n}`, {
          details: { model: name, version: n },
        });
      return { ...found, status: "active" };
    },
    rollback: async (name) => {
      calls.push(["rollback", name]);
      if (name !== "activity-player_1") throw noModel(name);
      return { ...versions[1]!, status: "active" };
    },
    predict: async (name, request) => {
      calls.push(["predict", name, request]);
      if (name === "broken")
        throw new EdgetrainError("model_unavailable", "model broken version 1 does not load: protobuf parsing failed", {
          details: { model: name },
        });
      if (name !== "activity-player_1") throw noModel(name);
      return {
        model: name,
        version: 2,
        outputs: ((Array.isArray(request.inputs) ? request.inputs : undefined) ?? request.rows ?? []).map(() => ({
          label: "run",
          probabilities: { rest: 0.1, run: 0.9 },
        })),
        cached: false,
      };
    },
    cacheStats: () => STATUS.cache,
    clearCache: (model) => void calls.push(["clearCache", model]),
    follow: (lastId, listener) => journal.follow(lastId, listener),
    attend: () => () => {},
    warmCache: async (model) => {
      calls.push(["warmCache", model]);
      if (model !== undefined && model !== "activity") throw noModel(model);
      return { warmed: [{ model: "activity", entries: 3 }] };
    },
    profile: () => ({ name: "base", files: ["profiles/base.yaml"], text: "api:\n  port: 8470 # built-in\n" }),
    logs: (filter) => (
      calls.push(["logs", filter]),
      [{ time: "2026-12-04T10:00:01.000Z", level: "info", msg: "run started", job: "activity" }]
    ),
    metrics: async () => ({ contentType: "text/plain; version=0.0.4", text: "edgetrain_up 1\n" }),
    importModel: async (name, request) => {
      calls.push(["importModel", name, { ...request, bytes: request.bytes.byteLength }]);
      return {
        version: {
          ...version(3, "candidate"),
          model: name,
          source: "import",
          imported: { file: request.file, sha256: "ab", changes: [] },
        },
        changes: [],
      };
    },
    modelSignature: async (name) => {
      if (name !== "activity-player_1") throw noModel(name);
      return {
        version: 2,
        signature: {
          inputs: [{ name: "features", type: "float32", shape: ["N", 2] }],
          outputs: [{ name: "probabilities", type: "float32", shape: ["N", 2] }],
        },
      };
    },
    infer: async (name, body) => {
      calls.push(["infer", name, body]);
      if (name !== "activity-player_1") throw noModel(name);
      return {
        model_name: name,
        model_version: "2",
        outputs: [{ name: "probabilities", datatype: "FP32", shape: [1, 2], data: [0.1, 0.9] }],
      };
    },
    ready: async (model) => {
      if (model !== undefined && model !== "activity-player_1") throw noModel(model);
      return { ready: true };
    },
    token: () => TOKEN,
    exposed: () => false,
    allowedHosts: () => [],
    corsOrigins: () => [],
    maxBodyBytes: () => 64 * 1024,
    requestSeen: () => {},
    ...overrides,
  };
  /** Sends an event to every `/v1/events` subscriber, as the bus would. */
  const emit = <T extends EventType>(type: T, data: EventPayloads[T]) => {
    journal.record({ type, at: Date.parse("2026-12-04T10:00:02.000Z"), data } as BusEvent);
  };
  return { view, calls, emit };
}

/** A request to the app as a client on this machine would send it; `token: true` adds the right one. */
export function request(
  method: string,
  path: string,
  options: { body?: unknown; token?: string | true; headers?: Record<string, string> } = {},
): Request {
  const headers: Record<string, string> = { host: "127.0.0.1:8470", ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token === true ? TOKEN : options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
    // What a client on the wire sends, and what the body limit reads.
    headers["content-length"] ??= String(Buffer.byteLength(body));
  }
  return new Request(`http://127.0.0.1:8470${path}`, { method, headers, body });
}
