import { Counter, Gauge, Registry } from "prom-client";
import type { DaemonStatus } from "./daemon-view.ts";
import { PredictionTally } from "./prediction-tally.ts";

export interface MetricsSources {
  status(): DaemonStatus;
  /** Finished runs by job and status, from the state database. */
  runCounts(): Array<{ job: string; status: string; count: number }>;
  activeVersions(): Array<{ model: string; version: number }>;
}

/**
 * The daemon's Prometheus metrics. Counts that live elsewhere (runs in the database, cache hits in the
 * cache plugin) are read at scrape time; prediction counts and latencies are observed as they happen.
 */
export class DaemonMetrics {
  readonly registry = new Registry();
  private readonly predictions: PredictionTally;
  /** Read once per scrape: a dozen collectors share one status instead of each querying the daemon. */
  private scraped?: DaemonStatus;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    const status = () => (this.scraped ??= sources.status());
    this.predictions = new PredictionTally(this.registry);
    const reading = (name: string, help: string, pick: (r: Record<string, unknown>) => unknown) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const value = pick(status().governor.readings ?? {});
          if (typeof value === "number") this.set(value);
        },
      });
    reading("edgetrain_system_cpu_percent", "System CPU in use, edgetrain's own runs excluded.", (r) => r.cpuPercent);
    reading("edgetrain_memory_percent", "Memory in use.", (r) => r.memoryPercent);
    reading("edgetrain_temperature_celsius", "Hottest thermal zone.", (r) => r.temperatureC);
    reading("edgetrain_gpu_percent", "GPU load.", (r) => r.gpuPercent);
    new Gauge({ name: "edgetrain_governor_paused", help: "1 while the governor holds runs paused.", registers, collect() { this.set(status().governor.paused ? 1 : 0); } });
    new Gauge({ name: "edgetrain_governor_sparing_core", help: "1 while runs leave a core to predictions (spare_core_predictions_per_s).", registers, collect() { this.set(status().governor.sparing_core ? 1 : 0); } });
    new Gauge({ name: "edgetrain_disk_full", help: "1 while the disk of the home is full: no run starts until space is back.", registers, collect() { this.set(status().disk.full ? 1 : 0); } });
    new Gauge({
      name: "edgetrain_disk_free_bytes",
      help: "Free space on the disk of the home.",
      registers,
      collect() {
        const free = status().disk.free_bytes;
        if (free !== null) this.set(free);
      },
    });
    new Gauge({ name: "edgetrain_queue_length", help: "Job+key entries waiting to run.", registers, collect() { this.set(status().queue.length); } });
    new Gauge({ name: "edgetrain_runs_running", help: "Training runs in progress.", registers, collect() { this.set(status().running); } });
    new Gauge({
      name: "edgetrain_runs",
      help: "Runs recorded in the state database, by job and status.",
      labelNames: ["job", "status"],
      registers,
      collect() {
        this.reset();
        for (const row of sources.runCounts()) this.set({ job: row.job, status: row.status }, row.count);
      },
    });
    new Gauge({
      name: "edgetrain_model_active_version",
      help: "The version each model serves.",
      labelNames: ["model"],
      registers,
      collect() {
        this.reset();
        for (const row of sources.activeVersions()) this.set({ model: row.model }, row.version);
      },
    });
    new Gauge({ name: "edgetrain_models_loaded", help: "ONNX Runtime sessions loaded.", registers, collect() { this.set(status().models.loaded.length); } });
    new Gauge({ name: "edgetrain_cache_entries", help: "Entries in the prediction cache.", registers, collect() { this.set(status().cache.entries); } });
    // Counted by the daemon since it started; the scrape copies the total.
    const total = (name: string, help: string, pick: (s: DaemonStatus) => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(pick(status()));
        },
      });
    total("edgetrain_inference_calls_total", "ONNX Runtime calls since the daemon started; requests arriving together share one.", (s) => s.inference.calls);
    total("edgetrain_inference_rows_total", "Rows those calls predicted.", (s) => s.inference.rows);
    total("edgetrain_session_loads_total", "ONNX Runtime sessions loaded since the daemon started, kept or not: a rate near the predictions' means models are loaded per request.", (s) => s.inference.sessions.loads);
    total("edgetrain_session_loads_not_kept_total", "Of those, sessions not kept: the memory budget was full of sessions asked for more often, so they answered their requests and went.", (s) => s.inference.sessions.not_kept);
    total("edgetrain_session_evictions_total", "Sessions unloaded to make room for another one.", (s) => s.inference.sessions.evictions);
    new Gauge({ name: "edgetrain_session_bytes", help: "Estimated memory of the sessions kept loaded (inference.memory_budget_mb counts this).", registers, collect() { this.set(status().inference.sessions.bytes); } });
    new Gauge({ name: "edgetrain_session_budget_bytes", help: "inference.memory_budget_mb, in bytes.", registers, collect() { this.set(status().inference.sessions.budget_bytes); } });
    total("edgetrain_cache_hits_total", "Prediction cache hits since the daemon started.", (s) => s.cache.hits);
    total("edgetrain_cache_misses_total", "Prediction cache misses since the daemon started.", (s) => s.cache.misses);
    new Gauge({ name: "edgetrain_uptime_seconds", help: "Seconds since the daemon started.", registers, collect() { this.set(status().uptime_s); } });
    new Gauge({ name: "edgetrain_resident_memory_bytes", help: "Resident memory of the daemon process.", registers, collect() { this.set(process.memoryUsage().rss); } });
  }

  observePrediction(model: string, cached: boolean, seconds: number): void {
    this.predictions.observe(model, cached, seconds);
  }

  async render(): Promise<{ contentType: string; text: string }> {
    try {
      return { contentType: this.registry.contentType, text: await this.registry.metrics() };
    } finally {
      this.scraped = undefined;
    }
  }
}
