import * as v from "valibot";
import { Duration, durationAtLeast, durationMs } from "./duration.ts";
import { LatencyGuardSchema } from "./latency-guard-schema.ts";
import { percent, positiveInt } from "./numeric-fields.ts";

const doc = v.description;

const GovernorFields = v.strictObject({
  // The CPU reading counts 10 ms kernel ticks; 0 would read /proc without rest and flap pause and resume.
  sample_interval: v.optional(durationAtLeast("100ms"), "1s"),
  max_cpu_before: v.optional(
    percent(
      "A run starts only while system CPU (excluding edgetrain's runs) is below this, in percent; at most pause_cpu.",
    ),
    60,
  ),
  max_memory_before: v.optional(
    percent("A run starts only while memory in use is below this, in percent; at most pause_memory."),
    75,
  ),
  pause_cpu: v.optional(percent("Running jobs pause above this system CPU, in percent; 100: never."), 90),
  pause_memory: v.optional(percent("Running jobs pause above this memory use, in percent; 100: never."), 90),
  resume_cpu: v.optional(percent("Paused jobs resume below this system CPU, in percent; below pause_cpu."), 60),
  resume_memory: v.optional(percent("Paused jobs resume below this memory use, in percent; below pause_memory."), 75),
  pause_predictions_per_s: v.optional(
    v.pipe(
      v.number(),
      v.minValue(0),
      doc(
        "Running jobs pause while this daemon answers more predictions per second than this, and resume below half " +
          "of it; 0: never. Serving counts as edgetrain's own CPU, so pause_cpu alone never yields to it.",
      ),
    ),
    0,
  ),
  spare_core_predictions_per_s: v.optional(
    v.pipe(
      v.number(),
      v.minValue(0),
      doc(
        "While this daemon answers more predictions per second than this, running jobs leave one core to it: a run " +
          "trains on at most (cores − 1) threads, the others waiting between trees or epochs (a command strategy's " +
          "extra trainers are stopped), until the rate falls below half of it; 0: never. Training in the idle class " +
          "still slows a busy API once it fills every core. Off by default: the latency guard measures that cost " +
          "instead of guessing it from the rate.",
      ),
    ),
    0,
  ),
  pause_after: v.optional(
    positiveInt(
      "Consecutive samples above a pause (or spare_core) threshold before acting, and below its resume threshold " +
        "before undoing it.",
    ),
    3,
  ),
  latency_guard: v.optional(LatencyGuardSchema, {}),
  max_pause: v.optional(Duration, "30m"),
  max_temperature: v.optional(
    v.pipe(v.number(), doc("No run starts, and running ones pause, above this temperature in °C.")),
    85,
  ),
  max_gpu_before: v.optional(
    percent(
      "A run starts only while the GPU is busy below this, in percent; 100: no limit; at most pause_gpu. A GPU that " +
        "cannot be read does not hold a run back (the admission says so).",
    ),
    90,
  ),
  max_gpu_memory_before: v.optional(
    percent(
      "A run starts only while GPU memory in use is below this, in percent; 100: no limit; at most " +
        "gpu_memory_fraction (as a percentage).",
    ),
    75,
  ),
  pause_gpu: v.optional(
    percent(
      "Running jobs pause above this GPU load, in percent; 100: never. The GPU's load includes edgetrain's own " +
        "trainers (no reader tells them apart), so set it only for a GPU shared with other work.",
    ),
    100,
  ),
  resume_gpu: v.optional(percent("Paused jobs resume below this GPU load, in percent; below pause_gpu."), 60),
  gpu_memory_fraction: v.optional(
    v.pipe(
      v.number(),
      v.minValue(0.05),
      v.maxValue(1),
      doc(
        "Share of the GPU's memory a run's trainers may fill: a probed run starts no more workers than fit in it, " +
          "and running jobs pause while GPU memory in use passes it, and resume once it is back under it.",
      ),
    ),
    0.9,
  ),
  memory_limit_mb: v.optional(
    positiveInt(
      "Memory (RSS) of a training run as a whole, all its threads or trainer processes together: a probed run starts " +
        "no more workers than fit in it, and a run that passes it is stopped.",
    ),
    4096,
  ),
  memory_reserve_mb: v.optional(
    positiveInt(
      "Memory left free for the system: a probed run starts a worker only if the memory available stays above this, " +
        "and stops its newest worker when it falls below. One not below the machine's memory is warned of at start " +
        "(not refused: a profile moves between devices).",
    ),
    512,
  ),
  workers: v.optional(positiveInt("Worker threads or processes a training run may use.")),
  max_concurrent_runs: v.optional(positiveInt("Runs allowed at once."), 1),
  training_class: v.optional(
    v.pipe(
      v.picklist(["idle", "normal"]),
      doc(
        "Scheduling class of the threads a run trains in, and of the trainer processes they start. idle (Linux " +
          "SCHED_IDLE): they get a core only when no other thread wants it, so a prediction never waits for " +
          "training; normal: they share the CPU at training_nice. Where SCHED_IDLE is not available, runs train at " +
          "training_nice.",
      ),
    ),
    "idle",
  ),
  training_nice: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(0),
      v.maxValue(19),
      doc(
        "Nice value of the threads a run trains in (0–19), for training_class normal and where the idle class is not " +
          "available.",
      ),
    ),
    10,
  ),
});

type GovernorFields = v.InferOutput<typeof GovernorFields>;

/**
 * A rule across the governor's fields, forwarded to `field` so that `edgetrain validate` shows its line:
 * `expected <expected>, got <its value>: <why>`.
 */
function rule(
  field: keyof GovernorFields,
  holds: (governor: GovernorFields) => boolean,
  expected: (governor: GovernorFields) => string,
  why: string,
) {
  return v.forward(
    v.check(holds, (issue) => `expected ${expected(issue.input)}, got ${JSON.stringify(issue.input[field])}: ${why}`),
    [field],
  );
}

const spelled = (duration: string | number) => (typeof duration === "number" ? `${duration}s` : duration);

type Resource = "cpu" | "memory" | "gpu";

// A pause threshold of 100 never pauses, so no other threshold has to stay under it.
const resumesBelowPause = (resource: Resource) =>
  rule(
    `resume_${resource}`,
    (g) => g[`pause_${resource}`] >= 100 || g[`resume_${resource}`] < g[`pause_${resource}`],
    (g) => `below pause_${resource} ${g[`pause_${resource}`]}`,
    "with no gap between the two, runs would pause and resume in turn around one load",
  );

// A start limit of 100 sets none: "always start, pause on a spike" is a choice, not a contradiction.
const startsUnderPause = (resource: Resource) =>
  rule(
    `max_${resource}_before`,
    (g) =>
      g[`pause_${resource}`] >= 100 ||
      g[`max_${resource}_before`] >= 100 ||
      g[`max_${resource}_before`] <= g[`pause_${resource}`],
    (g) => `at most pause_${resource} ${g[`pause_${resource}`]}`,
    "a run would start only to be paused",
  );

/** The profile's `governor:` section (part of runtime/config/schema.ts): when runs may start, pause and resume. */
export const Governor = v.pipe(
  GovernorFields,
  resumesBelowPause("cpu"),
  resumesBelowPause("memory"),
  resumesBelowPause("gpu"),
  startsUnderPause("cpu"),
  startsUnderPause("memory"),
  startsUnderPause("gpu"),
  rule(
    "max_gpu_memory_before",
    (g) => g.gpu_memory_fraction >= 1 || g.max_gpu_memory_before <= g.gpu_memory_fraction * 100,
    (g) => `at most gpu_memory_fraction ${g.gpu_memory_fraction} (${Math.round(g.gpu_memory_fraction * 100)} %)`,
    "a run would start only to be paused",
  ),
  // A pause ends only after pause_after calm samples: a max_pause no longer than that cancels every paused run.
  rule(
    "max_pause",
    (g) => durationMs(g.max_pause) > g.pause_after * durationMs(g.sample_interval),
    (g) => `longer than pause_after × sample_interval (${g.pause_after} × ${spelled(g.sample_interval)})`,
    "a pause lasts at least that long, so every pause would cancel the run",
  ),
);
