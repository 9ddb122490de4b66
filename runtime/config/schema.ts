import * as v from "valibot";
import { Duration } from "./duration.ts";
import { Fleet } from "./fleet-schema.ts";
import { Hub } from "./hub-schema.ts";
import { ConflictPolicy, Job, PluginOptions, type PluginStep } from "./job-schema.ts";

/**
 * The profile schema: the single source of truth for profile types, `profiles/schema.json`
 * (scripts/generate-schema.ts) and the defaults that `profiles/base.yaml` spells out.
 * Objects are strict so that a misspelled key is an error with a "did you mean".
 */

const doc = v.description;
const percent = (text: string) => v.pipe(v.number(), v.minValue(0), v.maxValue(100), doc(text));
const positiveInt = (text: string) => v.pipe(v.number(), v.integer(), v.minValue(1), doc(text));


const Device = v.strictObject({
  name: v.optional(v.pipe(v.string(), doc("Name shown in status and logs.")), "edge-device"),
  kind: v.optional(
    v.pipe(v.picklist(["generic", "jetson-nano", "jetson-orin", "gpu-server", "cloud-vm"]), doc("What kind of hardware this profile is for.")),
    "generic",
  ),
  accelerator: v.optional(
    v.pipe(v.picklist(["auto", "cpu", "cuda"]), doc("Accelerator wanted for inference and training: auto uses CUDA when it loads.")),
    "auto",
  ),
});

const Paths = v.strictObject({
  home: v.optional(v.pipe(v.string(), doc("edgetrain's home folder; relative paths below are resolved against it. `~` is the user's home.")), "~/.edgetrain"),
  data: v.optional(v.pipe(v.string(), doc("Where data sources look for training files.")), "data"),
  models: v.optional(v.pipe(v.string(), doc("Model store: numbered versions per model.")), "models"),
  cache: v.optional(v.pipe(v.string(), doc("Prediction cache and extracted runtime libraries.")), "cache"),
  logs: v.optional(v.pipe(v.string(), doc("JSON-lines log files.")), "logs"),
  state: v.optional(v.pipe(v.string(), doc("SQLite state database folder.")), "state"),
});

const Governor = v.strictObject({
  sample_interval: v.optional(Duration, "1s"),
  max_cpu_before: v.optional(percent("A run starts only while system CPU (excluding edgetrain's runs) is below this, in percent."), 60),
  max_memory_before: v.optional(percent("A run starts only while memory in use is below this, in percent."), 75),
  pause_cpu: v.optional(percent("Running jobs pause above this system CPU, in percent."), 90),
  pause_memory: v.optional(percent("Running jobs pause above this memory use, in percent."), 90),
  resume_cpu: v.optional(percent("Paused jobs resume below this system CPU, in percent."), 60),
  resume_memory: v.optional(percent("Paused jobs resume below this memory use, in percent."), 75),
  pause_predictions_per_s: v.optional(
    v.pipe(v.number(), v.minValue(0), doc("Running jobs pause while this daemon answers more predictions per second than this, and resume below half of it; 0: never. Serving counts as edgetrain's own CPU, so pause_cpu alone never yields to it.")),
    0,
  ),
  spare_core_predictions_per_s: v.optional(
    v.pipe(
      v.number(),
      v.minValue(0),
      doc("While this daemon answers more predictions per second than this, running jobs leave one core to it: a run trains on at most (cores − 1) threads, the others waiting between trees or epochs (a command strategy's extra trainers are stopped), until the rate falls below half of it; 0: never. Training in the idle class still slows a busy API once it fills every core."),
    ),
    50,
  ),
  pause_after: v.optional(positiveInt("Consecutive samples above a pause (or spare_core) threshold before acting, and below its resume threshold before undoing it."), 3),
  max_pause: v.optional(Duration, "30m"),
  max_temperature: v.optional(v.pipe(v.number(), doc("No run starts, and running ones pause, above this temperature in °C.")), 85),
  max_gpu_before: v.optional(percent("A run starts only while the GPU is busy below this, in percent; 100: no limit. A GPU that cannot be read does not hold a run back (the admission says so)."), 90),
  max_gpu_memory_before: v.optional(percent("A run starts only while GPU memory in use is below this, in percent; 100: no limit."), 75),
  pause_gpu: v.optional(
    percent("Running jobs pause above this GPU load, in percent; 100: never. The GPU's load includes edgetrain's own trainers (no reader tells them apart), so set it only for a GPU shared with other work."),
    100,
  ),
  resume_gpu: v.optional(percent("Paused jobs resume below this GPU load, in percent."), 60),
  gpu_memory_fraction: v.optional(
    v.pipe(v.number(), v.minValue(0.05), v.maxValue(1), doc("Share of the GPU's memory a run's trainers may fill: a probed run starts no more workers than fit in it, and running jobs pause while GPU memory in use passes it, and resume once it is back under it.")),
    0.9,
  ),
  memory_limit_mb: v.optional(
    positiveInt("Memory (RSS) of a training run as a whole, all its threads or trainer processes together: a probed run starts no more workers than fit in it, and a run that passes it is stopped."),
    4096,
  ),
  memory_reserve_mb: v.optional(positiveInt("Memory left free for the system: a probed run starts a worker only if the memory available stays above this, and stops its newest worker when it falls below."), 512),
  workers: v.optional(positiveInt("Worker threads or processes a training run may use.")),
  max_concurrent_runs: v.optional(positiveInt("Runs allowed at once."), 1),
  training_class: v.optional(
    v.pipe(
      v.picklist(["idle", "normal"]),
      doc("Scheduling class of the threads a run trains in, and of the trainer processes they start. idle (Linux SCHED_IDLE): they get a core only when no other thread wants it, so a prediction never waits for training; normal: they share the CPU at training_nice. Where SCHED_IDLE is not available, runs train at training_nice."),
    ),
    "idle",
  ),
  training_nice: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(19), doc("Nice value of the threads a run trains in (0–19), for training_class normal and where the idle class is not available.")),
    10,
  ),
});

const Predictor = v.strictObject({
  name: v.pipe(v.string(), doc("Name used in prompts and logs.")),
  cmdline: v.optional(v.pipe(v.string(), doc("A process whose command line contains this text counts as a live predictor."))),
  lockfile: v.optional(v.pipe(v.string(), doc("A predictor holds this lockfile while it runs."))),
  serving: v.optional(v.pipe(v.string(), doc("edgetrain's own serving counts as this predictor while it answers requests for a matching model (`activity-*`): for jobs whose copy-to-dir would overwrite files it serves."))),
});


const Conflicts = v.strictObject({
  predictors: v.optional(v.array(Predictor), []),
  policy: v.optional(v.pipe(ConflictPolicy, doc("What a job does when it meets a live predictor.")), "ask"),
  on_unattended: v.optional(v.pipe(ConflictPolicy, doc("Policy used instead of `ask` when nobody can answer.")), "wait"),
  ask_timeout: v.optional(Duration, "60s"),
  ask_default: v.optional(v.pipe(v.picklist(["wait", "skip", "force"]), doc("Answer taken when an `ask` prompt times out.")), "wait"),
  check_interval: v.optional(Duration, "10s"),
  max_wait: v.optional(Duration, "5m"),
});

const UsageWeights = v.strictObject({
  players: v.optional(v.pipe(v.number(), v.minValue(0)), 1),
  cpu: v.optional(v.pipe(v.number(), v.minValue(0)), 0.5),
  memory: v.optional(v.pipe(v.number(), v.minValue(0)), 0.5),
});

const UsageSource = v.pipe(
  v.strictObject({
    type: v.pipe(v.picklist(["self", "sql", "csv"]), doc("self: edgetrain's own record of load and API requests; sql: a query (url, query); csv: a file (path, timestamp).")),
    weight: v.optional(v.pipe(v.number(), v.minValue(0), doc("This source's share of the combined hour-of-week score.")), 1),
    weights: v.optional(v.pipe(UsageWeights, doc("How its metrics weigh against each other; default usage.weights."))),
    url: v.optional(v.pipe(v.string(), doc("sql: postgres://… or mysql://…; put credentials in ${VARIABLES}."))),
    query: v.optional(v.pipe(v.string(), doc("sql: returns a column `at` and any of players, cpu, memory; $1 is the start of the history."))),
    path: v.optional(v.pipe(v.string(), doc("csv: the file, relative to the data folder."))),
    timestamp: v.optional(v.pipe(v.string(), doc("csv: the timestamp column.")), "timestamp"),
  }),
  v.check(
    (source) => source.type !== "sql" || (source.url !== undefined && source.query !== undefined),
    "a sql source needs url and query",
  ),
  v.check((source) => source.type !== "csv" || source.path !== undefined, "a csv source needs path"),
);

const Usage = v.strictObject({
  source: v.optional(v.pipe(v.picklist(["none", "self", "sql", "csv"]), doc("Where activity history comes from, to learn off-peak windows: self is edgetrain's own record of load and API requests.")), "none"),
  history_days: v.optional(positiveInt("Days of history used."), 30),
  min_data_points: v.optional(positiveInt("Observations needed before the windows are trusted."), 200),
  window_hours: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(24), doc("Length of each off-peak window in hours.")), 3),
  windows: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(10), doc("How many windows to pick.")), 3),
  timezone: v.optional(v.pipe(v.string(), doc("IANA zone the hours of the week are counted in; default the machine's."))),
  weights: v.optional(UsageWeights, {}),
  sources: v.optional(
    v.pipe(
      v.array(UsageSource),
      doc("Several activity sources at once (e.g. players in MariaDB, server load in PostgreSQL): `{ type: self | sql | csv, weight (1), weights?, url + query (sql), path + timestamp (csv) }`, each scored by hour of the week and combined by its weight; when set, source, sql and csv are not used. A source that cannot be read is left out, and that is said."),
    ),
    [],
  ),
  sql: v.optional(
    v.strictObject({
      url: v.pipe(v.string(), doc("postgres://… or mysql://…; put credentials in ${VARIABLES}.")),
      query: v.pipe(v.string(), doc("Returns a column `at` and any of players, cpu, memory; $1 is the start of the history.")),
    }),
  ),
  csv: v.optional(v.strictObject({ path: v.string(), timestamp: v.optional(v.string(), "timestamp") })),
});

const Inference = v.strictObject({
  backend: v.optional(v.pipe(v.picklist(["auto", "native", "wasm"]), doc("ONNX Runtime backend: auto picks WebAssembly where glibc < 2.28.")), "auto"),
  memory_budget_mb: v.optional(
    positiveInt(
      "Estimated memory of the model sessions kept loaded (9 times each model file plus 320 KB, at least what ONNX Runtime takes: a demo forest of 40 trees about 2 MB). Once it is full, a new session is kept only in place of least recently used ones asked for less often; a model not kept loads a session for the requests that arrive while it is loaded.",
    ),
    512,
  ),
  max_loaded: v.optional(positiveInt("A cap on the count of sessions kept loaded, besides memory_budget_mb; none when left out.")),
  min_residence: v.optional(v.pipe(Duration, doc("A session kept is not unloaded to make room for another for this long after it was loaded, however rarely it is asked for.")), "10s"),
  threads: v.optional(
    positiveInt("Intra-op threads per session. 1: a session computes on the thread that asks, which is fastest for single rows and cheapest to unload; more only speed up large batches."),
    1,
  ),
  max_batch_rows: v.optional(
    positiveInt("Predictions asked of one model in the same turn of the event loop run as one ONNX Runtime call of up to this many rows: fewer calls under load. 1: each request alone."),
    64,
  ),
});

const Cache = v.strictObject({
  type: v.optional(v.pipe(v.string(), doc("Cache plugin: memory, disk or tiered.")), "memory"),
  ttl: v.optional(Duration, "1h"),
  ttl_during_training: v.optional(Duration, "24h"),
  max_entries: v.optional(positiveInt("Entries kept in memory (memory and tiered caches); as many more asked for only once (up to 16,384) wait as bytes, 512 each."), 10_000),
  options: v.optional(PluginOptions, {}),
  pregenerate: v.optional(
    v.strictObject({
      file: v.optional(v.pipe(v.string(), doc("JSON lines of {\"model\", \"inputs\"} answered right before scheduled training and after each activation; relative to home."))),
      top: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), doc("Also the most requested inputs (asked at least twice), this many per model.")), 20),
    }),
    {},
  ),
});

const Models = v.strictObject({
  keep_versions: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), doc("Versions kept besides the active one; older ones are pruned.")), 3),
});

const History = v.strictObject({
  run_folders: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(0), doc("Run folders (model, run.json, checkpoints) kept per job and key besides the latest successful run's; older ones are deleted after each run.")),
    5,
  ),
  keep_days: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(1), doc("Run records and events older than this leave the state database (runs whose model is in the store stay).")),
    90,
  ),
});

const Api = v.strictObject({
  host: v.optional(v.pipe(v.string(), doc("Address to listen on. Anything but loopback requires `token`.")), "127.0.0.1"),
  port: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(65535), doc("TCP port; 0 picks a free one.")), 8470),
  token: v.optional(v.pipe(v.string(), v.minLength(16, "a token of at least 16 characters"), doc("Bearer token; use `${EDGETRAIN_TOKEN}` rather than writing it here."))),
  allowed_hosts: v.optional(
    v.pipe(
      v.array(v.pipe(v.string(), v.regex(/^[a-z0-9.:[\]-]+$/i, "a host name or address, with an optional :port"))),
      doc("Host header values answered besides loopback names (a name that resolves to this device, e.g. for a reverse proxy). On a loopback bind any other Host gets 403, against DNS rebinding; on another bind the list is checked only when set."),
    ),
    [],
  ),
  cors_origins: v.optional(
    v.pipe(
      v.array(v.pipe(v.string(), v.regex(/^https?:\/\/[a-z0-9.:[\]-]+$/i, "an origin: scheme, host, optional port"))),
      doc(
        "Browser origins (a dashboard's page, e.g. `https://dash.example.com`) allowed to read /v1 answers and " +
          "/v1/events across origins (CORS). Empty: none. The token rule still applies.",
      ),
    ),
    [],
  ),
  max_body_kb: v.optional(positiveInt("Largest request body accepted; the default carries max_rows rows of up to about 60 features written in full."), 8192),
  max_rows: v.optional(positiveInt("Rows one predict request may carry."), 10_000),
  event_buffer: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(0),
      v.maxValue(100_000),
      doc(
        "Newest events kept for /v1/events clients that reconnect with Last-Event-ID; an older id gets a " +
          "`reset` event. 0 keeps none.",
      ),
    ),
    1000,
  ),
});

const Logging = v.strictObject({
  level: v.optional(v.picklist(["debug", "info", "warn", "error"]), "info"),
  file: v.optional(v.pipe(v.string(), doc("Log file name under paths.logs (JSON lines).")), "edgetrain.log"),
  max_size_mb: v.optional(v.pipe(v.number(), v.minValue(0.01), doc("Past this size the log file is renamed to <file>.1 and a new one started.")), 10),
  keep_files: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), doc("Rotated log files kept (<file>.1 … .N); the oldest is dropped.")), 3),
});

const Defaults = v.strictObject({
  strategies: v.optional(v.pipe(v.record(v.string(), PluginOptions), doc("Options every job of a strategy starts from, e.g. fewer trees on small devices.")), {}),
});

const Converters = v.pipe(
  v.record(v.string(), PluginOptions),
  doc(
    "Options of each converter by name (`scikit-learn: { python: /opt/venv/bin/python3 }`): `edgetrain models " +
      "add` of a .pkl, .pt or .keras file.",
  ),
);

export const ProfileSchema = v.strictObject({
  $schema: v.optional(v.string()),
  extends: v.optional(v.pipe(v.string(), doc("Profile this one overrides: a built-in name or a file path."))),
  device: v.optional(Device, {}),
  paths: v.optional(Paths, {}),
  plugins_dir: v.optional(v.pipe(v.string(), doc("User plugins (.ts/.js files) loaded at start; relative to home.")), "plugins"),
  governor: v.optional(Governor, {}),
  conflicts: v.optional(Conflicts, {}),
  jobs: v.optional(v.record(v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9._-]*$/, "a job name of [a-z0-9._-]")), Job), {}),
  defaults: v.optional(Defaults, {}),
  converters: v.optional(Converters, {}),
  usage: v.optional(Usage, {}),
  models: v.optional(Models, {}),
  history: v.optional(History, {}),
  inference: v.optional(Inference, {}),
  cache: v.optional(Cache, {}),
  api: v.optional(Api, {}),
  logging: v.optional(Logging, {}),
  fleet: v.optional(
    v.pipe(Fleet, doc("Membership of a fleet managed by an edgetrain hub; left out, the device stands alone.")),
  ),
  hub: v.optional(v.pipe(Hub, doc("How `edgetrain hub` runs, when this profile is the hub's; a daemon ignores it."))),
});

export type ProfileInput = v.InferInput<typeof ProfileSchema>;
export type Profile = v.InferOutput<typeof ProfileSchema>;
export type Job = v.InferOutput<typeof Job>;
export type { FleetConfig } from "./fleet-schema.ts";
export type { HubConfig } from "./hub-schema.ts";
export type { PluginStep };
