import * as v from "valibot";
import { Duration } from "./duration.ts";
import { LatencyGuardSchema } from "./latency-guard-schema.ts";
import { percent, positiveInt } from "./numeric-fields.ts";

const doc = v.description;

/** The profile's `governor:` section (part of runtime/config/schema.ts): when runs may start, pause and resume. */
export const Governor = v.strictObject({
  sample_interval: v.optional(Duration, "1s"),
  max_cpu_before: v.optional(
    percent("A run starts only while system CPU (excluding edgetrain's runs) is below this, in percent."),
    60,
  ),
  max_memory_before: v.optional(percent("A run starts only while memory in use is below this, in percent."), 75),
  pause_cpu: v.optional(percent("Running jobs pause above this system CPU, in percent."), 90),
  pause_memory: v.optional(percent("Running jobs pause above this memory use, in percent."), 90),
  resume_cpu: v.optional(percent("Paused jobs resume below this system CPU, in percent."), 60),
  resume_memory: v.optional(percent("Paused jobs resume below this memory use, in percent."), 75),
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
      "A run starts only while the GPU is busy below this, in percent; 100: no limit. A GPU that cannot be read does " +
        "not hold a run back (the admission says so).",
    ),
    90,
  ),
  max_gpu_memory_before: v.optional(
    percent("A run starts only while GPU memory in use is below this, in percent; 100: no limit."),
    75,
  ),
  pause_gpu: v.optional(
    percent(
      "Running jobs pause above this GPU load, in percent; 100: never. The GPU's load includes edgetrain's own " +
        "trainers (no reader tells them apart), so set it only for a GPU shared with other work.",
    ),
    100,
  ),
  resume_gpu: v.optional(percent("Paused jobs resume below this GPU load, in percent."), 60),
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
        "and stops its newest worker when it falls below.",
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
