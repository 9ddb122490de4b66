import { describe, expect, test } from "bun:test";
import { Counter, Histogram, Registry } from "prom-client";
import { PredictionTally } from "../../runtime/api/prediction-tally.ts";

const OBSERVATIONS: Array<[string, boolean, number]> = [
  ["activity-player_1", true, 0.00004],
  ["activity-player_1", true, 0.0001],
  ["activity-player_1", false, 0.0031],
  ["activity-player_2", true, 0.00026],
  ["activity-player_2", false, 0.7],
  ["activity-player_1", true, 0.012],
];

describe("prediction tally", () => {
  test("renders the same Prometheus text as prom-client's own Counter and Histogram fed the same requests", async () => {
    const ours = new Registry();
    const tally = new PredictionTally(ours);
    const theirs = new Registry();
    const counter = new Counter({ name: "edgetrain_predictions_total", help: "Predict requests answered, by model and whether the cache answered.", labelNames: ["model", "cached"], registers: [theirs] });
    const histogram = new Histogram({
      name: "edgetrain_prediction_duration_seconds",
      help: "Time to answer a predict request inside the daemon.",
      labelNames: ["cached"],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
      registers: [theirs],
    });
    for (const [model, cached, seconds] of OBSERVATIONS) {
      tally.observe(model, cached, seconds);
      counter.inc({ model, cached: String(cached) });
      histogram.observe({ cached: String(cached) }, seconds);
    }
    const lines = async (registry: Registry) => (await registry.metrics()).split("\n").filter(Boolean).sort();
    expect(await lines(ours)).toEqual(await lines(theirs));
  });

  test("a bucket's bound is inclusive, as Prometheus defines le", async () => {
    const registry = new Registry();
    const tally = new PredictionTally(registry);
    tally.observe("m", true, 0.001);
    const text = await registry.metrics();
    expect(text).toContain('edgetrain_prediction_duration_seconds_bucket{le="0.0005",cached="true"} 0');
    expect(text).toContain('edgetrain_prediction_duration_seconds_bucket{le="0.001",cached="true"} 1');
  });
});
