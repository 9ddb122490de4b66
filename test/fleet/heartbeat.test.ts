import { describe, expect, test } from "bun:test";
import type { BusEvent } from "../../runtime/events/bus.ts";
import { fitHeartbeat, HeartbeatBuilder } from "../../runtime/fleet/agent/heartbeat.ts";
import { LiveRuns } from "../../runtime/fleet/agent/live-runs.ts";
import { HEARTBEAT_MAX_BYTES, type Heartbeat, type RunUpdate } from "../../runtime/fleet/protocol.ts";
import type { Governor } from "../../runtime/governor/governor.ts";
import type { Sample } from "../../runtime/governor/sampler.ts";

describe("heartbeat size and live run lines", () => {
  test("GPU load and GPU memory go out as ratios where the governor reads them, and are absent elsewhere", () => {
    const beatFrom = (sample: Partial<Sample>) =>
      new HeartbeatBuilder({
        device: "d-1",
        // The governor's latest reading stands in for a GPU this machine may not have.
        governor: { state: { latest: sample as Sample, paused: false, sparingCore: false } } as unknown as Governor,
        runs: () => [],
        models: () => [],
        fleetVersion: () => null,
        cacheHitRatio: () => undefined,
      }).next();
    const base = { totalCpuPercent: 40, memoryPercent: 50 };
    const orin = beatFrom({ ...base, gpuPercent: 62, gpuMemoryUsedMb: 2048, gpuMemoryTotalMb: 8192 });
    expect(orin).toMatchObject({ cpu_ratio: 0.4, memory_ratio: 0.5, gpu_ratio: 0.62, gpu_memory_ratio: 0.25 });
    const plain = beatFrom(base);
    expect(Object.keys(plain).filter((key) => key.startsWith("gpu"))).toEqual([]);
  });

  test("the class histogram counts a classifier's labels; other answers count as rows only", () => {
    const builder = new HeartbeatBuilder({
      device: "d-1",
      governor: { state: { paused: false, sparingCore: false } } as unknown as Governor,
      runs: () => [],
      models: () => [],
      fleetVersion: () => null,
      cacheHitRatio: () => undefined,
    });
    builder.countPrediction("activity", [
      { label: "run", probabilities: { run: 0.9, rest: 0.1 } },
      { label: "run", probabilities: { run: 0.8, rest: 0.2 } },
    ]);
    builder.countPrediction("imported", [{ scores: [[0.1, 0.9]], name: "x" }, 4.2]);
    expect(builder.next().predictions!.by_model).toEqual({
      activity: { count: 2, classes: { run: 2 } },
      imported: { count: 2 },
    });
  });

  test("a heartbeat over 2 KB loses per-model detail first, and keeps its resources", () => {
    const models: NonNullable<Heartbeat["models"]> = {};
    const byModel: Record<string, { count: number; classes: Record<string, number> }> = {};
    for (let i = 0; i < 40; i++) {
      models[`activity-player_${i}`] = { version: 3, metrics: { accuracy: 0.91, f1: 0.88 } };
      byModel[`activity-player_${i}`] = { count: 120, classes: { walking: 60, running: 40, resting: 20 } };
    }
    const beat: Heartbeat = {
      device: "d-1",
      at: new Date(0).toISOString(),
      seq: 7,
      cpu_ratio: 0.4,
      memory_ratio: 0.5,
      temperature_c: 51.5,
      models,
      predictions: { total: 4800, by_model: byModel },
    };
    expect(Buffer.byteLength(JSON.stringify(beat))).toBeGreaterThan(HEARTBEAT_MAX_BYTES);
    const fitted = fitHeartbeat(beat);
    expect(Buffer.byteLength(JSON.stringify(fitted))).toBeLessThanOrEqual(HEARTBEAT_MAX_BYTES);
    expect(fitted).toMatchObject({ seq: 7, cpu_ratio: 0.4, memory_ratio: 0.5, temperature_c: 51.5 });
    expect(fitted.predictions!.total).toBe(4800);
    expect(beat.models!["activity-player_0"]!.metrics).toBeDefined();
  });

  test("a run's log lines go to the hub at most log_lines_per_s, and the next one says how many were dropped", () => {
    const sent: RunUpdate[] = [];
    const live = new LiveRuns({
      device: "d-1",
      send: (u) => sent.push(u),
      finished: () => {},
      logLinesPerSecond: () => 2,
    });
    const line = (at: number, msg: string) =>
      live.listener({
        type: "log",
        at,
        data: { time: new Date(at).toISOString(), level: "info", msg, run: "r1" },
      } as BusEvent);
    for (let i = 0; i < 5; i++) line(1000 + i, `line ${i}`);
    line(2100, "later");
    line(2200, "later again");
    expect(sent.map((u) => u.data.msg)).toEqual(["line 0", "line 1", "later", "later again"]);
    expect(sent[2]!.data.dropped_before).toBe(3);
    live.listener({ type: "log", at: 3000, data: { time: "", level: "info", msg: "daemon line" } } as BusEvent);
    expect(sent.length).toBe(4);
    // A trainer's own lines (command strategy) share the same limit.
    for (let i = 0; i < 3; i++)
      live.listener({ type: "run.log", at: 5000, data: { run: "r1", worker: 0, line: `t${i}` } });
    expect(sent.slice(4).map((u) => u.data)).toEqual([
      { line: "t0", worker: 0 },
      { line: "t1", worker: 0 },
    ]);
  });
});
