import type { EventPayloads } from "../api/contract.ts";

type Reading = EventPayloads["governor.reading"];

/** One step of the history: the mean of the readings taken in it. */
export interface HistoryStep {
  /** When the step began (ms). */
  at: number;
  cpuPercent: number;
  memoryPercent: number;
  gpuPercent?: number;
  temperatureC?: number;
}

interface Sums {
  at: number;
  count: number;
  cpu: number;
  memory: number;
  gpu: { sum: number; count: number };
  temperature: { sum: number; count: number };
}

/**
 * The governor's readings over the last `spanMs`, averaged into steps of `stepMs`: a picture of the
 * last hour that any client can ask for, however long it has been attached. Steps are aligned to the
 * clock, so clients that ask at different times see the same steps.
 */
export class ReadingHistory {
  private readonly steps: Sums[] = [];

  constructor(
    readonly stepMs = 30_000,
    readonly spanMs = 3_600_000,
  ) {}

  record(reading: Reading, at: number): void {
    const start = at - (at % this.stepMs);
    let step = this.steps.at(-1);
    if (!step || step.at !== start) {
      step = { at: start, count: 0, cpu: 0, memory: 0, gpu: { sum: 0, count: 0 }, temperature: { sum: 0, count: 0 } };
      this.steps.push(step);
    }
    step.count++;
    step.cpu += reading.cpuPercent;
    step.memory += reading.memoryPercent;
    if (reading.gpuPercent !== undefined) step.gpu = added(step.gpu, reading.gpuPercent);
    if (reading.temperatureC !== undefined) step.temperature = added(step.temperature, reading.temperatureC);
    this.forget(at);
  }

  /** The steps of the span before `now`, oldest first; the current step is the mean so far. */
  history(now: number): HistoryStep[] {
    this.forget(now);
    return this.steps.map((step) => ({
      at: step.at,
      cpuPercent: round(step.cpu / step.count),
      memoryPercent: round(step.memory / step.count),
      ...(step.gpu.count ? { gpuPercent: round(step.gpu.sum / step.gpu.count) } : {}),
      ...(step.temperature.count ? { temperatureC: round(step.temperature.sum / step.temperature.count) } : {}),
    }));
  }

  private forget(now: number): void {
    while (this.steps.length && this.steps[0]!.at + this.stepMs <= now - this.spanMs) this.steps.shift();
  }
}

const round = (value: number) => Math.round(value * 10) / 10;
const added = (mean: { sum: number; count: number }, value: number) => ({
  sum: mean.sum + value,
  count: mean.count + 1,
});
