import { describe, expect, test } from "bun:test";
import { ReadingHistory } from "../../runtime/governor/reading-history.ts";

const T = Date.parse("2026-12-04T10:00:00Z");
type Sensors = { temperatureC?: number; gpuPercent?: number };
const reading = (cpuPercent: number, memoryPercent: number, more: Sensors = {}) => ({
  cpuPercent,
  memoryPercent,
  totalCpuPercent: cpuPercent,
  ownCpuPercent: 0,
  load1: 0,
  ...more,
});

describe("the last hour of readings", () => {
  test("readings are averaged into clock-aligned steps; a sensor some readings lack, over those that have it", () => {
    const history = new ReadingHistory(30_000, 3_600_000);
    history.record(reading(10, 20), T + 1000);
    history.record(reading(30, 40, { temperatureC: 50 }), T + 29_000);
    history.record(reading(50, 60, { gpuPercent: 70 }), T + 30_000);
    expect(history.history(T + 31_000)).toEqual([
      { at: T, cpuPercent: 20, memoryPercent: 30, temperatureC: 50 },
      { at: T + 30_000, cpuPercent: 50, memoryPercent: 60, gpuPercent: 70 },
    ]);
  });

  test("CPU or memory /proc could not give is left out of the mean, and absent from a step with none of it", () => {
    const history = new ReadingHistory(30_000, 3_600_000);
    history.record(reading(10, 20), T + 1000);
    history.record({ load1: 0 }, T + 2000);
    history.record({ load1: 0, memoryPercent: 50 }, T + 30_000);
    expect(history.history(T + 31_000)).toEqual([
      { at: T, cpuPercent: 10, memoryPercent: 20 },
      { at: T + 30_000, memoryPercent: 50 },
    ]);
  });

  test("steps older than the span are forgotten, when asked and when recording", () => {
    const history = new ReadingHistory(30_000, 3_600_000);
    history.record(reading(10, 20), T);
    history.record(reading(30, 40), T + 30_000);
    expect(history.history(T + 3_630_000).map((step) => step.at)).toEqual([T + 30_000]);
    history.record(reading(50, 60), T + 3_700_000);
    expect(history.history(T + 3_700_000).map((step) => step.at)).toEqual([T + 3_690_000]);
  });
});
