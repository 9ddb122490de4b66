import type { Governor } from "../../governor/governor.ts";
import { gpuMemoryPercent } from "../../governor/gpu-limits.ts";
import type { PredictionOutput } from "../../inference/session-outputs.ts";
import type { ModelSummary } from "../../store/model-store.ts";
import { HEARTBEAT_MAX_BYTES, type Heartbeat } from "../protocol.ts";

export interface HeartbeatSources {
  device: string;
  governor: Governor;
  runs: () => Array<{ id: string; job: string; key: string | null; status: string }>;
  models: () => ModelSummary[];
  /** The hub's number for a version kept here; null for one trained or imported here (fleetVersionOf). */
  fleetVersion: (model: string, version: number) => number | null;
  cacheHitRatio: () => number | undefined;
}

type ByModel = Record<string, { count: number; classes?: Record<string, number> }>;

/** Histogram buckets kept per model: a regression's values are not classes, and a label set is bounded. */
const MAX_CLASSES = 32;

/**
 * Builds the heartbeat: resources from the governor's latest sample (a sensor it has no reading for is left
 * out, never 0), runs, active versions, and the predictions answered since the previous heartbeat.
 */
export class HeartbeatBuilder {
  private seq = 0;
  private total = 0;
  private byModel: ByModel = {};

  constructor(private readonly sources: HeartbeatSources) {}

  /** A prediction listener (Services.onPrediction): counts rows and, for classifiers, their classes. */
  countPrediction(model: string, outputs: readonly PredictionOutput[]): void {
    const entry = (this.byModel[model] ??= { count: 0 });
    entry.count += outputs.length;
    this.total += outputs.length;
    for (const output of outputs) {
      // Only a classifier's answer has a label; an imported model's named outputs have no class to count.
      const label = typeof output === "object" && !Array.isArray(output) ? output.label : undefined;
      if (typeof label !== "string") continue;
      const classes = (entry.classes ??= {});
      if (classes[label] !== undefined || Object.keys(classes).length < MAX_CLASSES)
        classes[label] = (classes[label] ?? 0) + 1;
    }
  }

  next(now = new Date()): Heartbeat {
    const { device, governor } = this.sources;
    const sample = governor.state.latest;
    const gpuMemory = sample && gpuMemoryPercent(sample);
    const state = governor.state;
    const beat: Heartbeat = {
      device,
      at: now.toISOString(),
      seq: ++this.seq,
      ...(sample && {
        ...(sample.totalCpuPercent !== undefined && { cpu_ratio: ratio(sample.totalCpuPercent) }),
        ...(sample.memoryPercent !== undefined && { memory_ratio: ratio(sample.memoryPercent) }),
        ...(sample.diskPercent !== undefined && { disk_ratio: ratio(sample.diskPercent) }),
        ...(sample.gpuPercent !== undefined && { gpu_ratio: ratio(sample.gpuPercent) }),
        ...(gpuMemory !== undefined && { gpu_memory_ratio: ratio(gpuMemory) }),
        ...(sample.temperatureC !== undefined && { temperature_c: round(sample.temperatureC, 1) }),
      }),
      governor: state.paused
        ? `paused: ${state.reason}`
        : state.sparingCore
          ? `sparing a core: ${state.sparingReason}`
          : "running",
      runs: this.sources
        .runs()
        .map((run) => ({ run: run.id, job: run.job, ...(run.key !== null && { key: run.key }), state: run.status })),
      models: Object.fromEntries(
        this.sources
          .models()
          .filter((m) => m.active !== undefined)
          .map((m) => [
            m.model,
            {
              version: m.active!,
              fleet_version: this.sources.fleetVersion(m.model, m.active!),
              ...(m.metrics && { metrics: roundAll(m.metrics) }),
            },
          ]),
      ),
      predictions: { total: this.total, ...optionalRatio(this.sources.cacheHitRatio()), by_model: this.byModel },
    };
    this.byModel = {};
    return fitHeartbeat(beat);
  }
}

/** At most HEARTBEAT_MAX_BYTES: per-model detail goes first (metrics, then histograms, then the models themselves). */
export function fitHeartbeat(beat: Heartbeat): Heartbeat {
  const fits = (b: Heartbeat) => Buffer.byteLength(JSON.stringify(b)) <= HEARTBEAT_MAX_BYTES;
  if (fits(beat)) return beat;
  const trimmed: Heartbeat = structuredClone(beat);
  for (const model of Object.values(trimmed.models ?? {})) delete model.metrics;
  if (fits(trimmed)) return trimmed;
  for (const model of Object.values(trimmed.predictions?.by_model ?? {})) delete model.classes;
  if (fits(trimmed)) return trimmed;
  delete trimmed.predictions?.by_model;
  if (fits(trimmed)) return trimmed;
  delete trimmed.models;
  if (trimmed.runs && !fits(trimmed)) trimmed.runs = trimmed.runs.slice(0, 3);
  return trimmed;
}

const ratio = (percent: number) => round(Math.min(1, Math.max(0, percent / 100)), 3);
const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;
const roundAll = (metrics: Record<string, number>) =>
  Object.fromEntries(Object.entries(metrics).map(([name, value]) => [name, round(value, 4)]));
const optionalRatio = (value: number | undefined) =>
  value === undefined ? {} : { cache_hit_ratio: ratio(value * 100) };
