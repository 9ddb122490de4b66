import type { Metric, Registry } from "prom-client";
import { Counter } from "prom-client";

const LATENCY = "edgetrain_prediction_duration_seconds";
const BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5];

interface Latencies {
  /** Per bucket, not cumulative; the last one is +Inf. */
  counts: Float64Array;
  sum: number;
  count: number;
}

/**
 * Predict requests counted and timed as plain numbers. prom-client's own observe() validates and hashes
 * the label values on every call, a tenth of a cached predict's CPU time in the daemon's profile; here a
 * request adds to a few numbers, and prom-client renders them, in its own format, when /metrics is read.
 */
export class PredictionTally {
  private readonly counts = new Map<string, { model: string; code: string; count: number }>();
  private readonly latencies = new Map<string, Latencies>();

  constructor(registry: Registry) {
    const counts = this.counts;
    new Counter({
      name: "edgetrain_predictions_total",
      help: "Predict requests by model and outcome: code is ok, or the error's code (bad_input, not_found, …).",
      labelNames: ["model", "code"],
      registers: [registry],
      collect() {
        this.reset();
        for (const { model, code, count } of counts.values()) this.inc({ model, code }, count);
      },
    });
    registry.registerMetric(this.latencyMetric());
  }

  /** `code` is "ok" for an answer; only answers are timed, so refusals do not pull the quantiles down. */
  observe(model: string, code: string, seconds: number): void {
    const key = `${code}/${model}`;
    const counted = this.counts.get(key);
    if (counted) counted.count++;
    else this.counts.set(key, { model, code, count: 1 });
    if (code !== "ok") return;
    let latency = this.latencies.get(model);
    if (!latency)
      this.latencies.set(model, (latency = { counts: new Float64Array(BUCKETS.length + 1), sum: 0, count: 0 }));
    let bucket = 0;
    while (bucket < BUCKETS.length && seconds > BUCKETS[bucket]!) bucket++;
    latency.counts[bucket]!++;
    latency.sum += seconds;
    latency.count++;
  }

  /**
   * A histogram in the shape prom-client's registry renders (`_bucket` with `le`, `_sum`, `_count`). prom-client
   * has no way to hand a Histogram counts kept elsewhere, so this object stands in for one.
   */
  private latencyMetric(): Metric {
    const latencies = this.latencies;
    const metric = {
      name: LATENCY,
      help: "Time to answer a predict request inside the daemon, by model.",
      type: "histogram",
      aggregator: "sum",
      get: async () => {
        const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = [];
        for (const [model, latency] of latencies) {
          let cumulative = 0;
          BUCKETS.forEach((le, index) => {
            cumulative += latency.counts[index]!;
            values.push({ metricName: `${LATENCY}_bucket`, labels: { le, model }, value: cumulative });
          });
          values.push({ metricName: `${LATENCY}_bucket`, labels: { le: "+Inf", model }, value: latency.count });
          values.push({ metricName: `${LATENCY}_sum`, labels: { model }, value: latency.sum });
          values.push({ metricName: `${LATENCY}_count`, labels: { model }, value: latency.count });
        }
        return { name: metric.name, help: metric.help, type: metric.type, aggregator: metric.aggregator, values };
      },
      // Like the request counts beside them, the latencies last as long as the daemon.
      reset: () => undefined,
    };
    return metric as unknown as Metric;
  }
}
