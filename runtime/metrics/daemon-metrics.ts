import { collectDefaultMetrics, Gauge, Registry } from "prom-client";
import type { DaemonStatus } from "../api/daemon-view.ts";
import type { BusEvent } from "../events/bus.ts";
import type { DiskUsage } from "../files/disk-usage.ts";
import { build } from "../version.ts";
import { registerDeviceMetrics } from "./device-metrics.ts";
import { type EventCounterSources, EventCounters } from "./event-counters.ts";
import { PredictionTally } from "./prediction-tally.ts";
import { type ActiveVersion, registerServingMetrics } from "./serving-metrics.ts";

export interface MetricsSources extends Omit<EventCounterSources, "jobs" | "models"> {
  status(): DaemonStatus;
  diskUsage(): DiskUsage | undefined;
  activeVersions(): ActiveVersion[];
  /** The daemon's event stream. */
  subscribe(listener: (event: BusEvent) => void): void;
}

const EVENT_LOOP_SAMPLE_MS = 100;

/**
 * prom-client's defaults that say nothing under Bun: V8's heap spaces (JavaScriptCore has none, all read
 * 0) and libuv's handle counts, whose `_total` gauges also fail `promtool check metrics`.
 */
const MEANINGLESS_DEFAULTS = [
  "nodejs_heap_space_size_total_bytes",
  "nodejs_heap_space_size_used_bytes",
  "nodejs_heap_space_size_available_bytes",
  "nodejs_active_resources",
  "nodejs_active_resources_total",
  "nodejs_active_handles",
  "nodejs_active_handles_total",
  "nodejs_active_requests",
  "nodejs_active_requests_total",
];

/**
 * The daemon's Prometheus metrics: the process's own (`process_*`, `nodejs_*`), the device, serving and
 * runs. Counts that live elsewhere (cache hits in the cache plugin, sessions in the pool) are read at
 * scrape time; predictions, runs ended and decisions are counted as they happen.
 */
export class DaemonMetrics {
  readonly registry = new Registry();
  private readonly predictions: PredictionTally;
  /** Read once per scrape: a dozen collectors share one status instead of each querying the daemon. */
  private scraped?: DaemonStatus;

  constructor(sources: MetricsSources) {
    const { registry } = this;
    const status = () => (this.scraped ??= sources.status());
    // The event loop's lag is sampled by a timer: every 10 ms by default, a cost an idle device pays all day.
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
    for (const name of MEANINGLESS_DEFAULTS) registry.removeSingleMetric(name);
    new Gauge({
      name: "edgetrain_build_info",
      help: "Always 1: the version, the build target and the profile in force.",
      labelNames: ["version", "target", "profile"],
      registers: [registry],
      collect() {
        this.reset();
        this.set({ version: build.version, target: build.target, profile: status().profile.name }, 1);
      },
    });
    registerDeviceMetrics(registry, status, () => sources.diskUsage());
    registerServingMetrics(registry, status, () => sources.activeVersions());
    this.predictions = new PredictionTally(registry);
    const counters = new EventCounters(registry, {
      ...sources,
      jobs: () => status().jobs.map((job) => job.name),
      models: () => sources.activeVersions().map((row) => row.model),
    });
    // For the daemon's life, like the bus: nothing to unsubscribe before both go.
    sources.subscribe((event) => counters.observe(event));
  }

  /** `code` is "ok" for an answer, else the error's code. */
  observePrediction(model: string, code: string, seconds: number): void {
    this.predictions.observe(model, code, seconds);
  }

  async render(): Promise<{ contentType: string; text: string }> {
    try {
      return { contentType: this.registry.contentType, text: await this.registry.metrics() };
    } finally {
      this.scraped = undefined;
    }
  }
}
