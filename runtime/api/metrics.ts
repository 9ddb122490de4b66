import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { DaemonStatus } from "./daemon-view.ts";

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
  private readonly predictions: Counter<"model" | "cached">;
  private readonly latency: Histogram<"cached">;
  /** Read once per scrape: a dozen collectors share one status instead of each querying the daemon. */
  private scraped?: DaemonStatus;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    const status = () => (this.scraped ??= sources.status());
    this.predictions = new Counter({ name: "edgetrain_predictions_total", help: "Predict requests answered, by model and whether the cache answered.", labelNames: ["model", "cached"], registers });
    this.latency = new Histogram({
      name: "edgetrain_prediction_duration_seconds",
      help: "Time to answer a predict request inside the daemon.",
      labelNames: ["cached"],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
      registers,
    });
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
    for (const [name, field] of [["edgetrain_cache_hits_total", "hits"], ["edgetrain_cache_misses_total", "misses"]] as const) {
      new Counter({
        name,
        help: `Prediction cache ${field} since the daemon started.`,
        registers,
        collect() {
          this.reset();
          this.inc(status().cache[field]);
        },
      });
    }
    new Gauge({ name: "edgetrain_uptime_seconds", help: "Seconds since the daemon started.", registers, collect() { this.set(status().uptime_s); } });
    new Gauge({ name: "edgetrain_resident_memory_bytes", help: "Resident memory of the daemon process.", registers, collect() { this.set(process.memoryUsage().rss); } });
  }

  /** prom-client hashes the label values on every call; the children are bound once per label set instead. */
  private readonly counted = new Map<string, { inc(): void }>();
  private readonly timed = new Map<boolean, { observe(seconds: number): void }>();

  observePrediction(model: string, cached: boolean, seconds: number): void {
    const key = `${cached}/${model}`;
    let counter = this.counted.get(key);
    if (!counter) this.counted.set(key, (counter = this.predictions.labels({ model, cached: String(cached) })));
    counter.inc();
    let latency = this.timed.get(cached);
    if (!latency) this.timed.set(cached, (latency = this.latency.labels({ cached: String(cached) })));
    latency.observe(seconds);
  }

  async render(): Promise<{ contentType: string; text: string }> {
    try {
      return { contentType: this.registry.contentType, text: await this.registry.metrics() };
    } finally {
      this.scraped = undefined;
    }
  }
}
