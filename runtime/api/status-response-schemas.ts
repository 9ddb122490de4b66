import * as v from "valibot";
import { Count, Fields, IsoTime, JobPlugin, Text, UnixMs } from "./response-fields.ts";

/** What the daemon's status routes answer (part of response-schemas.ts): status, resources, disk and cache. */

const CacheStatsEntries = { entries: Count, hits: Count, misses: Count };
export const CacheStats = v.object({
  ...CacheStatsEntries,
  hit_rate: v.pipe(v.number(), v.description("hits / (hits + misses), 0 before any lookup.")),
  type: v.pipe(v.string(), v.description("The cache plugin: memory, disk, …")),
});

export const DiskStatus = v.object({
  home: Text,
  full: v.boolean(),
  free_bytes: v.nullable(
    v.pipe(v.number(), v.description("Free bytes on the home's file system; null where statfs cannot tell.")),
  ),
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
      cpu_percent: v.optional(Percent("CPU used by other processes (the governor's cpuPercent); absent: unknown")),
      memory_percent: v.optional(Percent("Memory in use; absent: unknown (/proc/meminfo gave no reading)")),
      gpu_percent: v.optional(Percent("GPU use, where there is a GPU sensor")),
      temperature_c: v.optional(
        v.pipe(v.number(), v.description("Temperature in °C, where there is a sensor; the mean over the step.")),
      ),
    }),
  ),
});

const LatencyGuardStatus = v.pipe(
  v.object({
    enabled: v.boolean(),
    threads_per_run: v.pipe(
      v.nullable(Count),
      v.description("Threads each run may train on while the guard holds some back; 0: runs paused; null: no hold."),
    ),
    duty: v.pipe(
      v.nullable(v.number()),
      v.description(
        "The share of each 2 s a run on one thread trains while the guard holds it to part of the time (0.75, 0.5 " +
          "or 0.25; it rests the rest, not paused); null: all the time.",
      ),
    ),
    reason: v.pipe(Text, v.description("Why threads are held back now; empty when none are.")),
    p99_ms: v.pipe(
      v.nullable(v.number()),
      v.description(
        "The p99 of how long the serving thread was kept from its work in each 10 ms (timer lateness or wait for a " +
          "CPU), over the latest window.",
      ),
    ),
    target_ms: v.pipe(
      v.nullable(v.number()),
      v.description("What a window is held to: p99_ms, or factor × idle_p99_ms."),
    ),
    idle_p99_ms: v.pipe(
      v.nullable(v.number()),
      v.description("The p99 learned while no run trained, at the latest window's request rate; null before any."),
    ),
    answers: v.pipe(Count, v.description("Predictions answered in the latest window.")),
  }),
  v.description("governor.latency_guard: training threads taken away while training slows the daemon's answers."),
);

export const DaemonStatus = v.object({
  version: Text,
  pid: Count,
  started_at: IsoTime("When the daemon started"),
  uptime_s: Count,
  profile: v.object({ name: Text, files: v.array(Text), loaded_at: IsoTime("When the profile was loaded") }),
  device: v.object({ name: Text, kind: Text, accelerator: Text }),
  home: Text,
  plugins: v.array(
    v.object({
      kind: Text,
      name: Text,
      version: Text,
      source: v.pipe(v.string(), v.description("built-in, or the plugin's file.")),
    }),
  ),
  jobs: v.array(v.object({ name: Text, strategy: JobPlugin, enabled: v.boolean() })),
  state: v.object({ schema_version: Count }),
  governor: v.object({
    paused: v.boolean(),
    reason: Text,
    admitting: v.pipe(
      v.boolean(),
      v.description("Whether a queued run would start now: the governor and the home's disk, as the scheduler asks."),
    ),
    admission: v.pipe(
      Text,
      v.description(
        "Why queued runs wait (admitting false), or what they start without (a GPU load unknown); empty otherwise.",
      ),
    ),
    sparing_core: v.pipe(
      v.boolean(),
      v.description("Runs leave a core to serving while predictions come faster than spare_core_predictions_per_s."),
    ),
    sparing_reason: Text,
    threads_per_run: v.nullable(Count),
    latency_guard: LatencyGuardStatus,
    readings: v.optional(
      v.pipe(
        Fields,
        v.description("The latest sample: cpuPercent, ownCpuPercent, memoryPercent, temperatureC, gpuPercent, …"),
      ),
    ),
    limits: v.pipe(
      Fields,
      v.description(
        "The governor's thresholds (pause_cpu, pause_memory, max_temperature, …) and the scheduling class runs " +
          "train in (training_class, training_nice)",
      ),
    ),
  }),
  queue: v.array(
    v.object({
      job: Text,
      key: v.optional(Text),
      reason: Text,
      priority: Count,
      queued_at: IsoTime("When it was queued"),
    }),
  ),
  running: Count,
  runs: v.array(
    v.object({
      id: Text,
      job: Text,
      key: v.nullable(Text),
      status: Text,
      progress: v.nullable(Count),
      message: v.nullable(Text),
      started_at: v.nullable(UnixMs("When the run started")),
    }),
  ),
  models: v.object({
    count: Count,
    active: Count,
    loaded: v.array(v.object({ model: Text, version: Count, provider: Text })),
  }),
  inference: v.pipe(
    v.object({
      calls: Count,
      rows: Count,
      sessions: v.pipe(
        v.object({ loaded: Count, bytes: Count, budget_bytes: Count, loads: Count, not_kept: Count, evictions: Count }),
        v.description(
          "Sessions kept loaded and their estimated memory against inference.memory_budget_mb; sessions loaded since " +
            "the start, those not kept, and evictions.",
        ),
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
