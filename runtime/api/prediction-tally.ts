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
  private readonly counts = new Map<string, { model: string; cached: boolean; count: number }>();
  private readonly latencies = { true: emptyLatencies(), false: emptyLatencies() };

  constructor(registry: Registry) {
    const counts = this.counts;
    new Counter({
      name: "edgetrain_predictions_total",
      help: "Predict requests answered, by model and whether the cache answered.",
      labelNames: ["model", "cached"],
      registers: [registry],
      collect() {
        this.reset();
        for (const { model, cached, count } of counts.values()) this.inc({ model, cached: String(cached) }, count);
      },
    });
    registry.registerMetric(this.latencyMetric());
  }

  observe(model: string, cached: boolean, seconds: number): void {
    const key = cached ? `+${model}` : `-${model}`;
    const counted = this.counts.get(key);
    if (counted) counted.count++;
    else this.counts.set(key, { model, cached, count: 1 });
    const latency = cached ? this.latencies.true : this.latencies.false;
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
      help: "Time to answer a predict request inside the daemon.",
      type: "histogram",
      aggregator: "sum",
      get: async () => {
        const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = [];
        for (const cached of ["true", "false"] as const) {
          const latency = latencies[cached];
          let cumulative = 0;
          BUCKETS.forEach((le, index) => {
            cumulative += latency.counts[index]!;
            values.push({ metricName: `${LATENCY}_bucket`, labels: { le, cached }, value: cumulative });
          });
          values.push({ metricName: `${LATENCY}_bucket`, labels: { le: "+Inf", cached }, value: latency.count });
          values.push({ metricName: `${LATENCY}_sum`, labels: { cached }, value: latency.sum });
          values.push({ metricName: `${LATENCY}_count`, labels: { cached }, value: latency.count });
        }
        return { name: metric.name, help: metric.help, type: metric.type, aggregator: metric.aggregator, values };
      },
      // Like the request counts beside them, the latencies last as long as the daemon.
      reset: () => undefined,
    };
    return metric as unknown as Metric;
  }
}

function emptyLatencies(): Latencies {
  return { counts: new Float64Array(BUCKETS.length + 1), sum: 0, count: 0 };
}
