import type { EventPayloads } from "../api/contract.ts";

type Reading = EventPayloads["governor.reading"];

/** One step of the history: the mean of the readings taken in it. */
export interface HistoryStep {
  /** When the step began (ms). */
  at: number;
  /** Absent when no reading in the step had it: unknown, never 0. */
  cpuPercent?: number;
  memoryPercent?: number;
  gpuPercent?: number;
  temperatureC?: number;
}

interface Sums {
  at: number;
  cpu: Mean;
  memory: Mean;
  gpu: Mean;
  temperature: Mean;
}

type Mean = { sum: number; count: number };

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
      const none = { sum: 0, count: 0 };
      step = { at: start, cpu: none, memory: none, gpu: none, temperature: none };
      this.steps.push(step);
    }
    if (reading.cpuPercent !== undefined) step.cpu = added(step.cpu, reading.cpuPercent);
    if (reading.memoryPercent !== undefined) step.memory = added(step.memory, reading.memoryPercent);
    if (reading.gpuPercent !== undefined) step.gpu = added(step.gpu, reading.gpuPercent);
    if (reading.temperatureC !== undefined) step.temperature = added(step.temperature, reading.temperatureC);
    this.forget(at);
  }

  /** The steps of the span before `now`, oldest first; the current step is the mean so far. */
  history(now: number): HistoryStep[] {
    this.forget(now);
    return this.steps.map((step) => ({
      at: step.at,
      ...(step.cpu.count ? { cpuPercent: meanOf(step.cpu) } : {}),
      ...(step.memory.count ? { memoryPercent: meanOf(step.memory) } : {}),
      ...(step.gpu.count ? { gpuPercent: meanOf(step.gpu) } : {}),
      ...(step.temperature.count ? { temperatureC: meanOf(step.temperature) } : {}),
    }));
  }

  private forget(now: number): void {
    while (this.steps.length && this.steps[0]!.at + this.stepMs <= now - this.spanMs) this.steps.shift();
  }
}

const round = (value: number) => Math.round(value * 10) / 10;
const meanOf = (mean: Mean) => round(mean.sum / mean.count);
const added = (mean: Mean, value: number) => ({
  sum: mean.sum + value,
  count: mean.count + 1,
});
