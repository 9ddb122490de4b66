import * as v from "valibot";

/**
 * What every route answers, as valibot schemas: the contract's types are inferred from them and the
 * OpenAPI document's components converted from them, so the two cannot drift apart. Nothing validates
 * answers with them at run time (a prediction pays for no extra check); the tests do.
 */

const Text = v.string();
const Count = v.number();
const Metrics = v.pipe(v.record(v.string(), v.number()), v.description("Metric name to value, such as accuracy or rmse."));
const Fields = v.record(v.string(), v.unknown());
const UnixMs = (what: string) => v.pipe(v.number(), v.description(`${what}, in milliseconds since 1970 (UTC).`));
const IsoTime = (what: string) => v.pipe(v.string(), v.description(`${what}, ISO 8601.`));

export const ErrorBody = v.pipe(
  v.looseObject({
    code: v.pipe(v.string(), v.description("Stable, for programs: not_found, conflict, bad_request, unauthorized, deferred, …")),
    message: v.pipe(v.string(), v.description("For people: what is wrong, naming the field or the thing.")),
    hint: v.optional(v.pipe(v.string(), v.description("What to do about it, one line."))),
  }),
  v.description("Every error, whatever its status. Facts for programs (the field, the run, the model) are further fields."),
);

export const Health = v.object({ status: v.literal("ok") });
export const Readiness = v.object({
  ready: v.boolean(),
  reason: v.optional(
    v.pipe(v.string(), v.description("Why not: the state database, or the model whose serving version does not load.")),
  ),
});

const CacheStatsEntries = { entries: Count, hits: Count, misses: Count };
export const CacheStats = v.object({
  ...CacheStatsEntries,
  hit_rate: v.pipe(v.number(), v.description("hits / (hits + misses), 0 before any lookup.")),
  type: v.pipe(v.string(), v.description("The cache plugin: memory, disk, …")),
});

export const DiskStatus = v.object({
  home: Text,
  full: v.boolean(),
  free_bytes: v.nullable(v.pipe(v.number(), v.description("Free bytes on the home's file system; null where statfs cannot tell."))),
  since: v.optional(IsoTime("When the disk was found full")),
  message: v.optional(Text),
  waiting_writes: v.pipe(v.number(), v.description("Writes waiting for space, retried with backoff.")),
  dropped_writes: v.pipe(v.number(), v.description("Writes given up since the disk filled.")),
});

const Percent = (what: string) => v.pipe(v.number(), v.description(`${what}, 0–100, the mean over the step.`));
export const ResourceHistory = v.object({
  step_s: v.pipe(Count, v.description("Seconds each point averages.")),
  span_s: v.pipe(Count, v.description("Seconds of history kept: the last hour.")),
  points: v.array(
    v.object({
      at: IsoTime("When the step began"),
      cpu_percent: Percent("CPU used by other processes (the governor's cpuPercent)"),
      memory_percent: Percent("Memory in use"),
      gpu_percent: v.optional(Percent("GPU use, where there is a GPU sensor")),
      temperature_c: v.optional(
        v.pipe(v.number(), v.description("Temperature in °C, where there is a sensor; the mean over the step.")),
      ),
    }),
  ),
});

const JobPlugin = v.pipe(v.string(), v.description("Its training strategy, or a score job's score plugin."));
export const DaemonStatus = v.object({
  version: Text,
  pid: Count,
  started_at: IsoTime("When the daemon started"),
  uptime_s: Count,
  profile: v.object({ name: Text, files: v.array(Text), loaded_at: IsoTime("When the profile was loaded") }),
  device: v.object({ name: Text, kind: Text, accelerator: Text }),
  home: Text,
  plugins: v.array(v.object({ kind: Text, name: Text, version: Text, source: v.pipe(v.string(), v.description("built-in, or the plugin's file.")) })),
  jobs: v.array(v.object({ name: Text, strategy: JobPlugin, enabled: v.boolean() })),
  state: v.object({ schema_version: Count }),
  governor: v.object({
    paused: v.boolean(),
    reason: Text,
    sparing_core: v.pipe(v.boolean(), v.description("Runs leave a core to serving while predictions come faster than spare_core_predictions_per_s.")),
    sparing_reason: Text,
    threads_per_run: v.nullable(Count),
    readings: v.optional(v.pipe(Fields, v.description("The latest sample: cpuPercent, ownCpuPercent, memoryPercent, temperatureC, gpuPercent, …"))),
    limits: v.pipe(Fields, v.description("The governor's thresholds: pause_cpu, pause_memory, max_temperature, …")),
  }),
  queue: v.array(v.object({ job: Text, key: v.optional(Text), reason: Text, priority: Count, queued_at: IsoTime("When it was queued") })),
  running: Count,
  runs: v.array(
    v.object({ id: Text, job: Text, key: v.nullable(Text), status: Text, progress: v.nullable(Count), message: v.nullable(Text), started_at: v.nullable(UnixMs("When the run started")) }),
  ),
  models: v.object({ count: Count, active: Count, loaded: v.array(v.object({ model: Text, version: Count, provider: Text })) }),
  inference: v.pipe(
    v.object({
      calls: Count,
      rows: Count,
      sessions: v.pipe(
        v.object({ loaded: Count, bytes: Count, budget_bytes: Count, loads: Count, not_kept: Count, evictions: Count }),
        v.description("Sessions kept loaded and their estimated memory against inference.memory_budget_mb; sessions loaded since the start, those not kept, and evictions."),
      ),
    }),
    v.description("ONNX Runtime calls and the rows they ran since the start: rows per call is the batch size."),
  ),
  cache: CacheStats,
  disk: DiskStatus,
  copies: v.pipe(
    v.array(
      v.object({
        model: Text,
        version: Count,
        job: Text,
        key: v.optional(Text),
        target: v.pipe(Text, v.description("The file predictors read.")),
        restore: v.pipe(v.boolean(), v.description("The replaced file put back after a rollback, not a version's.")),
        since: IsoTime("When it was first held up"),
        attempts: v.pipe(Count, v.description("Writes tried and failed (predictors found live do not count).")),
        reason: v.optional(Text),
      }),
    ),
    v.description("copy-to-dir copies waiting for their predictors to go quiet, oldest first."),
  ),
  conflicts: v.object({
    open: v.pipe(Count, v.description("Open questions (GET /v1/conflicts).")),
    clients: v.pipe(Count, v.description("Clients following the conflict events: a TUI, an SSE subscriber.")),
    asking: v.pipe(
      v.boolean(),
      v.description("Whether `ask` puts a question now: false on a headless daemon no client follows."),
    ),
  }),
});

const RunSummaryEntries = {
  id: Text,
  job: Text,
  key: v.nullable(Text),
  strategy: Text,
  trigger: v.pipe(v.string(), v.description("What asked for the run: a trigger's reason, or manual.")),
  status: v.pipe(v.string(), v.description("queued, running, paused, stalled, succeeded, failed, cancelled or interrupted.")),
  created_at: UnixMs("When the run was recorded"),
  started_at: v.nullable(UnixMs("When it started")),
  ended_at: v.nullable(UnixMs("When it ended")),
  progress: v.nullable(v.pipe(v.number(), v.description("From 0 to 1."))),
  message: v.nullable(Text),
  metrics: v.nullable(Metrics),
  error: v.nullable(Text),
};
export const RunSummary = v.object(RunSummaryEntries);
export const RunDetail = v.object({
  ...RunSummaryEntries,
  details: v.pipe(v.unknown(), v.description("What the run left: heartbeats, checkpoints, the deployment, the data window.")),
  run_dir: v.nullable(Text),
});
export const RunList = v.object({ runs: v.array(RunSummary) });
export const RunControlled = v.object({ run: Text, action: v.picklist(["cancel", "pause", "resume"]), accepted: v.literal(true) });

export const OffPeak = v.object({
  windows: v.array(Text),
  note: v.optional(v.pipe(v.string(), v.description("Why there are no windows yet."))),
  hour_scores: v.optional(
    v.pipe(
      v.array(v.number()),
      v.description(
        "Activity per hour of the week, 168 values from Sunday 00:00 (usage.timezone), 0 quietest … 1 busiest; " +
          "absent until learned.",
      ),
    ),
  ),
  window_hours: v.optional(
    v.pipe(v.array(Count), v.description("The hours of the week (counted as in hour_scores) in an off-peak window.")),
  ),
});
export const JobSummary = v.object({
  name: Text,
  strategy: JobPlugin,
  enabled: v.boolean(),
  priority: Count,
  triggers: v.array(Text),
  last_run: v.optional(RunSummary),
  next: v.optional(v.pipe(v.string(), v.description("When it runs next, in words."))),
  why: Text,
});
export const JobList = v.object({ jobs: v.array(JobSummary), offpeak: OffPeak });
export const RunQueued = v.object({
  queued: v.literal(true),
  job: Text,
  key: v.nullable(Text),
  force: v.pipe(v.boolean(), v.description("Both the governor and conflicts ignored.")),
  ignore_governor: v.boolean(),
  ignore_conflicts: v.boolean(),
});

export const ModelVersion = v.object({
  model: Text,
  version: Count,
  status: v.picklist(["candidate", "active", "retired", "rejected", "rolled_back"]),
  path: v.pipe(v.string(), v.description("The version's ONNX file on the device.")),
  note: v.optional(v.pipe(v.string(), v.description("Why it was rejected or rolled back."))),
  gate: v.optional(Fields),
  job: v.optional(Text),
  key: v.optional(Text),
  run: v.optional(Text),
  strategy: v.optional(Text),
  options: v.optional(Fields),
  data: v.optional(v.pipe(Fields, v.description("The data window in words, files and row counts."))),
  task: v.optional(v.picklist(["classification", "regression"])),
  feature_names: v.optional(v.array(Text)),
  classes: v.optional(v.array(Text)),
  metrics: Metrics,
  parent: v.optional(v.pipe(Count, v.description("The version that served when the run that made it started."))),
  warm_started: v.optional(v.pipe(v.boolean(), v.description("Whether the run continued from the parent's weights."))),
  created_at: IsoTime("When the version was stored"),
  sha256: Text,
  source: v.optional(
    v.pipe(
      v.picklist(["run", "fleet", "import"]),
      v.description("Where the version came from: a run here, a fleet update from the hub, or an import."),
    ),
  ),
  fleet: v.optional(
    v.pipe(
      v.object({ rollout: Text, version: Count, issued_at: Text }),
      v.description("Of a fleet update: the rollout that brought it and the hub's version number."),
    ),
  ),
  imported: v.optional(
    v.pipe(
      v.object({
        file: Text,
        sha256: Text,
        changes: v.array(Text),
        converter: v.optional(v.pipe(Text, v.description("The converter that made a .pkl, .pt or .keras file ONNX."))),
        conversion: v.optional(v.pipe(Text, v.description("What the converter converted, in words."))),
      }),
      v.description(
        "Of an imported version: the file as given, its sha256 before any change, and what was changed (a ZipMap " +
          "removed); for a file of another framework, the converter and what it converted.",
      ),
    ),
  ),
});
export const ModelSummary = v.object({
  model: Text,
  active: v.optional(v.pipe(v.number(), v.description("The serving version; absent when none serves."))),
  versions: v.pipe(v.number(), v.description("How many versions are kept.")),
  latest: Count,
  job: v.optional(Text),
  key: v.optional(Text),
  metrics: v.optional(Metrics),
  activated_at: v.optional(IsoTime("When the serving version was activated")),
});
export const ModelList = v.object({ models: v.array(ModelSummary) });
export const ModelDetail = v.object({ model: Text, active: v.optional(Count), versions: v.array(ModelVersion), feature_names: v.optional(v.array(Text)), classes: v.optional(v.array(Text)) });
export const ModelActivated = v.object({ activated: ModelVersion });
const DeploymentSchema = v.object({
  model: Text,
  version: Count,
  status: v.pipe(
    v.picklist(["activated", "rejected", "stored", "failed"]),
    v.description("activated; rejected by the gate; stored (no step activated it); failed (a step broke, rolled back)."),
  ),
  message: v.optional(Text),
  steps: v.array(
    v.object({ step: Text, ok: v.boolean(), message: v.optional(Text), rolled_back: v.optional(v.boolean()) }),
  ),
});
export const ModelImported = v.object({
  version: ModelVersion,
  changes: v.pipe(
    v.array(Text),
    v.description("What was changed in the file to serve it, such as a ZipMap output removed."),
  ),
  deployment: v.optional(v.pipe(DeploymentSchema, v.description("The deploy steps' outcome, when asked to activate."))),
});
export const ModelRolledBack = v.object({ active: ModelVersion });

const PredictionOutput = v.union([
  v.object({ label: Text, probabilities: v.record(v.string(), v.number()) }),
  v.pipe(v.number(), v.description("A regression's value.")),
  v.pipe(v.array(v.number()), v.description("A model with several outputs.")),
  v.pipe(
    v.record(v.string(), v.unknown()),
    v.description("A model whose task is not known: each output's row by name, nested by its dimensions."),
  ),
]);
export const Prediction = v.object({
  model: Text,
  version: Count,
  outputs: v.pipe(v.array(PredictionOutput), v.description("One per input row, in order.")),
  cached: v.boolean(),
  stale: v.optional(v.pipe(v.boolean(), v.description("Served from an expired entry while the model trains; a fresh answer is being computed."))),
});
export const CacheCleared = v.object({ cleared: v.pipe(v.string(), v.description("The model whose entries were dropped, or all.")) });
export const CacheWarmed = v.object({
  warmed: v.array(
    v.object({ model: Text, entries: v.pipe(Count, v.description("Pregenerated batches computed and cached.")) }),
  ),
});

const ConflictAnswer = v.picklist(["wait", "skip", "force"]);
export const Conflict = v.object({
  id: Text,
  job: Text,
  key: v.optional(v.pipe(Text, v.description("The first key that asked."))),
  keys: v.pipe(
    v.array(Text),
    v.description("Every key still waiting on the answer, in the order they asked; empty without keys."),
  ),
  key_name: v.optional(v.pipe(Text, v.description("What a key is to the job (its `key` setting): player."))),
  summary: v.pipe(
    Text,
    v.description("The question in a line: `30 players of job activity wait for player-dashboard`."),
  ),
  predictors: v.array(
    v.object({
      name: Text,
      found: v.picklist(["process", "lockfile", "hold", "serving"]),
      pid: v.optional(Count),
      command: v.optional(Text),
      lockfile: v.optional(Text),
      model: v.optional(Text),
    }),
  ),
  asked_at: UnixMs("When the question was asked"),
  deadline: UnixMs("When the default answer applies if nobody answers"),
  default_answer: ConflictAnswer,
  answer: v.optional(ConflictAnswer),
  answered_by: v.optional(Text),
  answers: v.optional(
    v.pipe(
      v.record(Text, v.object({ answer: ConflictAnswer, by: Text })),
      v.description("Keys answered on their own (`POST` with `key`): they no longer wait for the answer to all."),
    ),
  ),
});
export const ConflictList = v.object({ conflicts: v.array(Conflict) });

export const ProfileText = v.object({ name: Text, files: v.array(Text), text: v.pipe(v.string(), v.description("The resolved profile as YAML, each value with where it came from; secrets masked.")) });
export const LogLine = v.looseObject({ time: IsoTime("When it was logged"), level: v.picklist(["debug", "info", "warn", "error"]), msg: Text });
export const LogList = v.object({ lines: v.pipe(v.array(LogLine), v.description("Oldest first.")) });

/** The Open Inference Protocol's answers (KServe v2). */
const V2Tensor = v.object({
  name: Text,
  datatype: v.pipe(v.string(), v.description("FP32, INT64, BOOL, BYTES, …")),
  shape: v.pipe(v.array(v.number()), v.description("-1 for a dimension the model leaves open.")),
});
export const V2ServerMetadata = v.object({ name: Text, version: Text, extensions: v.array(Text) });
export const V2ModelMetadata = v.object({
  name: Text,
  versions: v.array(Text),
  platform: Text,
  inputs: v.array(V2Tensor),
  outputs: v.array(V2Tensor),
});
export const V2ModelReady = v.object({ name: Text, ready: v.boolean() });
export const V2InferResponse = v.object({
  model_name: Text,
  model_version: Text,
  id: v.optional(v.pipe(v.string(), v.description("The request's id, echoed."))),
  outputs: v.array(
    v.object({
      ...V2Tensor.entries,
      data: v.pipe(v.array(v.union([v.number(), v.string(), v.boolean()])), v.description("Row-major, flat.")),
    }),
  ),
});
