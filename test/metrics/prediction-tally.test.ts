import { describe, expect, test } from "bun:test";
import { Counter, Histogram, Registry } from "prom-client";
import { PredictionTally } from "../../runtime/metrics/prediction-tally.ts";

const OBSERVATIONS: Array<[string, string, number]> = [
  ["activity-player_1", "ok", 0.00004],
  ["activity-player_1", "ok", 0.0001],
  ["activity-player_1", "bad_input", 0.0031],
  ["activity-player_2", "ok", 0.00026],
  ["activity-player_2", "ok", 0.7],
  ["", "not_found", 0.00002],
  ["activity-player_1", "ok", 0.012],
];

describe("prediction tally", () => {
  test("renders the same text as prom-client's own Counter and Histogram fed the same requests", async () => {
    const ours = new Registry();
    const tally = new PredictionTally(ours);
    const theirs = new Registry();
    const counter = new Counter({
      name: "edgetrain_predictions_total",
      help: "Predict requests by model and outcome: code is ok, or the error's code (bad_input, not_found, …).",
      labelNames: ["model", "code"],
      registers: [theirs],
    });
    const histogram = new Histogram({
      name: "edgetrain_prediction_duration_seconds",
      help: "Time to answer a predict request inside the daemon, by model.",
      labelNames: ["model"],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
      registers: [theirs],
    });
    for (const [model, code, seconds] of OBSERVATIONS) {
      tally.observe(model, code, seconds);
      counter.inc({ model, code });
      // Only answers are timed.
      if (code === "ok") histogram.observe({ model }, seconds);
    }
    const lines = async (registry: Registry) => (await registry.metrics()).split("\n").filter(Boolean).sort();
    expect(await lines(ours)).toEqual(await lines(theirs));
  });

  test("a bucket's bound is inclusive, as Prometheus defines le", async () => {
    const registry = new Registry();
    const tally = new PredictionTally(registry);
    tally.observe("m", "ok", 0.001);
    const text = await registry.metrics();
    expect(text).toContain('edgetrain_prediction_duration_seconds_bucket{le="0.0005",model="m"} 0');
    expect(text).toContain('edgetrain_prediction_duration_seconds_bucket{le="0.001",model="m"} 1');
  });
});
