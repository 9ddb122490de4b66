import type { Metric, Registry } from "prom-client";

/**
 * A gauge with no sample while its value is unknown: a sensor this machine lacks, a statfs that failed.
 * prom-client's Gauge without labels always renders a value (0 when never set), which reads as a real
 * 0 °C or an idle GPU; this one renders only its HELP and TYPE then.
 */
export function optionalGauge(registry: Registry, name: string, help: string, read: () => number | undefined): void {
  const metric = {
    name,
    help,
    type: "gauge",
    aggregator: "sum",
    get: async () => {
      const value = read();
      const values = value === undefined || !Number.isFinite(value) ? [] : [{ labels: {}, value }];
      return { name, help, type: "gauge", aggregator: "sum", values };
    },
    reset: () => undefined,
  };
  registry.registerMetric(metric as unknown as Metric);
}
