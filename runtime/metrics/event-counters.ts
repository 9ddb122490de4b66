import { Counter, Histogram, type Registry } from "prom-client";
import type { BusEvent } from "../events/bus.ts";

/** Statuses a run ends in: what `edgetrain_runs_total` counts. */
const ENDED = new Set(["succeeded", "failed", "cancelled", "interrupted"]);
const DECISIONS = ["paused", "resumed", "max_pause", "sparing_core", "core_returned", "throttled", "released"];
const RUN_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14_400, 43_200];

export interface EventCounterSources {
  /** The profile's jobs and the models served: their series start at 0, so a first failure shows as an increase. */
  jobs(): string[];
  models(): string[];
  /** How long a run took, from its record; undefined when it never started. */
  runSeconds(id: string): number | undefined;
}

/**
 * Counters of what happens, fed by the event bus as it happens: runs ended, rollbacks, the governor's
 * decisions. Each starts at 0 in each daemon process and only grows, as Prometheus expects of a counter:
 * a restart is a reset that rate() and increase() handle. Starting from the runs recorded instead made a
 * restart after retention pruned records start lower, and increase() counted that whole value as new runs.
 */
export class EventCounters {
  private readonly runs: Counter<"job_name" | "status">;
  private readonly durations: Histogram<"job_name" | "status">;
  private readonly rollbacks: Counter<"model">;
  private readonly decisions: Counter<"decision">;

  constructor(
    registry: Registry,
    private readonly sources: EventCounterSources,
  ) {
    const registers = [registry];
    // `job_name`, not `job`: Prometheus gives every scraped series a `job` label of its own (the scrape job).
    this.runs = new Counter({
      name: "edgetrain_runs_total",
      help: "Runs ended since the daemon started, by job and status (succeeded, failed, cancelled, interrupted).",
      labelNames: ["job_name", "status"],
      registers,
      collect() {
        for (const job of sources.jobs()) for (const status of ENDED) this.inc({ job_name: job, status }, 0);
      },
    });
    this.durations = new Histogram({
      name: "edgetrain_run_duration_seconds",
      help: "How long runs ended since the daemon started took, by job and status.",
      labelNames: ["job_name", "status"],
      buckets: RUN_BUCKETS,
      registers,
    });
    this.rollbacks = new Counter({
      name: "edgetrain_model_rollbacks_total",
      help: "Models rolled back to an earlier version, by hand or by a failed health check.",
      labelNames: ["model"],
      registers,
      collect() {
        for (const model of sources.models()) this.inc({ model }, 0);
      },
    });
    this.decisions = new Counter({
      name: "edgetrain_governor_decisions_total",
      help:
        "The governor's decisions: paused, resumed, max_pause (a run paused too long), sparing_core, core_returned, " +
        "throttled and released (the latency guard took a training thread away, gave one back).",
      labelNames: ["decision"],
      registers,
    });
    for (const decision of DECISIONS) this.decisions.inc({ decision }, 0);
  }

  observe(event: BusEvent): void {
    switch (event.type) {
      case "run.finished": {
        const { job, status } = event.data;
        this.runs.inc({ job_name: job, status });
        const seconds = this.sources.runSeconds(event.data.run);
        if (seconds !== undefined) this.durations.observe({ job_name: job, status }, seconds);
        return;
      }
      case "run.interrupted":
        // Found at start, left by a process that is gone: when it stopped is unknown, so it is not timed.
        this.runs.inc({ job_name: event.data.job, status: "interrupted" });
        return;
      case "model.rolled_back":
        this.rollbacks.inc({ model: event.data.model });
        return;
      case "governor.paused":
      case "governor.resumed":
      case "governor.max_pause":
      case "governor.sparing_core":
      case "governor.core_returned":
      case "governor.throttled":
      case "governor.released":
        this.decisions.inc({ decision: event.type.slice("governor.".length) });
        return;
    }
  }
}
