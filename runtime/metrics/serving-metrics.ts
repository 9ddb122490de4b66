import { Counter, Gauge, type Registry } from "prom-client";
import type { DaemonStatus } from "../api/daemon-view.ts";

export interface ActiveVersion {
  model: string;
  version: number;
  /** The version's metrics as its run reported them (accuracy, rmse, …). */
  metrics: Record<string, number>;
}

type Pick = (s: DaemonStatus) => number;

const GAUGES: Array<[string, string, Pick]> = [
  [
    "edgetrain_models_loaded",
    "Model versions loaded for serving (ONNX Runtime sessions and built-in tree ensembles).",
    (s) => s.models.loaded.length,
  ],
  [
    "edgetrain_session_bytes",
    "Estimated memory of the sessions kept loaded (inference.memory_budget_mb counts this).",
    (s) => s.inference.sessions.bytes,
  ],
  ["edgetrain_session_budget_bytes", "inference.memory_budget_mb, in bytes.", (s) => s.inference.sessions.budget_bytes],
  ["edgetrain_cache_entries", "Entries in the prediction cache.", (s) => s.cache.entries],
];

/** Counted by the daemon since it started; the scrape copies the total. */
const TOTALS: Array<[string, string, Pick]> = [
  [
    "edgetrain_inference_calls_total",
    "ONNX Runtime calls since the daemon started; requests arriving together share one.",
    (s) => s.inference.calls,
  ],
  ["edgetrain_inference_rows_total", "Rows those calls predicted.", (s) => s.inference.rows],
  [
    "edgetrain_session_loads_total",
    "ONNX Runtime sessions loaded since the daemon started, kept or not: a rate near the predictions' means models " +
      "are loaded per request.",
    (s) => s.inference.sessions.loads,
  ],
  [
    "edgetrain_session_loads_not_kept_total",
    "Of those, sessions not kept: the memory budget was full of sessions asked for more often, so they answered " +
      "their requests and went.",
    (s) => s.inference.sessions.not_kept,
  ],
  [
    "edgetrain_session_evictions_total",
    "Sessions unloaded to make room for another one.",
    (s) => s.inference.sessions.evictions,
  ],
  ["edgetrain_cache_hits_total", "Prediction cache hits since the daemon started.", (s) => s.cache.hits],
  ["edgetrain_cache_misses_total", "Prediction cache misses since the daemon started.", (s) => s.cache.misses],
];

/** Sessions, ONNX Runtime calls, the prediction cache, and the version each model serves with its metrics. */
export function registerServingMetrics(
  registry: Registry,
  status: () => DaemonStatus,
  active: () => ActiveVersion[],
): void {
  const registers = [registry];
  for (const [name, help, pick] of GAUGES) {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(pick(status()));
      },
    });
  }
  for (const [name, help, pick] of TOTALS) {
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(pick(status()));
      },
    });
  }
  new Gauge({
    name: "edgetrain_model_active_version",
    help: "The version each model serves.",
    labelNames: ["model"],
    registers,
    collect() {
      this.reset();
      for (const row of active()) this.set({ model: row.model }, row.version);
    },
  });
  new Gauge({
    name: "edgetrain_model_metric",
    help: "The metrics of the version each model serves, as its run reported them (accuracy, rmse, …).",
    labelNames: ["model", "metric"],
    registers,
    collect() {
      this.reset();
      for (const { model, metrics } of active()) {
        for (const [metric, value] of Object.entries(metrics)) {
          if (typeof value === "number" && Number.isFinite(value)) this.set({ model, metric }, value);
        }
      }
    },
  });
}
