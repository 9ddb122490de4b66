import type { Events } from "../events/bus.ts";
import { type Admission, admitOnReadings } from "./admission.ts";
import { DutyCycle, realSchedule, type Schedule } from "./duty-cycle.ts";
import { gpuIsCalm, gpuOverReason } from "./gpu-limits.ts";
import { type GuardState, GuardThrottle } from "./guard-throttle.ts";
import type { LatencyGuardSettings, LatencyWindow } from "./latency-guard.ts";
import type { Sample } from "./sampler.ts";

export interface GovernorLimits {
  maxCpuBefore: number;
  maxMemoryBefore: number;
  maxTemperature: number;
  pauseCpu: number;
  pauseMemory: number;
  resumeCpu: number;
  resumeMemory: number;
  /** GPU thresholds in percent; 100: none. */
  maxGpuBefore: number;
  maxGpuMemoryBefore: number;
  pauseGpu: number;
  resumeGpu: number;
  /** 0–1: runs pause while GPU memory in use passes this share. */
  gpuMemoryFraction: number;
  /** 0: never; runs resume below half of it. */
  pausePredictionsPerSecond: number;
  /** 0: never; above it runs leave a core to serving, until the rate falls below half of it. */
  spareCorePredictionsPerSecond: number;
  /** Cores this process may run on: runs that leave one share the rest. */
  cores: number;
  /** Consecutive samples over (or under) the thresholds before pausing (or resuming). */
  pauseAfter: number;
  maxPauseMs: number;
  /** `governor.latency_guard`; absent: off. */
  latencyGuard?: LatencyGuardSettings;
}

/** Running jobs cool down this far below max_temperature before they resume. */
const TEMPERATURE_HYSTERESIS_C = 5;

export interface GovernedRun {
  setPaused(paused: boolean): void;
  /** How many of the run's threads may train; undefined: all it has. */
  setThreads?(allowed: number | undefined): void;
  /** Paused longer than max_pause: the run is cancelled and rescheduled by its owner. */
  onMaxPause(): void;
  /** Threads or trainers the run trains on (ThreadAllowance.inUse); undefined until it says, counted as one. */
  threadsInUse?(): number | undefined;
  pausedSince?: number;
}

/**
 * A state entered after `after` consecutive samples over a threshold and left after as many calm ones;
 * samples in between reset both counts and hold the state.
 */
class Hysteresis {
  active = false;
  private over = 0;
  private calm = 0;

  /** "enter" or "leave" when this sample changes the state. */
  step(over: boolean, calm: boolean, after: number): "enter" | "leave" | undefined {
    this.over = over ? this.over + 1 : 0;
    this.calm = !over && calm ? this.calm + 1 : 0;
    if (!this.active && over && this.over >= after) {
      this.active = true;
      return "enter";
    }
    if (this.active && this.calm >= after) {
      this.active = false;
      return "leave";
    }
    return undefined;
  }
}

/**
 * Decides whether runs may start and when running ones pause and resume, from the samples it is fed.
 * It holds no timer of its own, so a test can feed it a week of readings in milliseconds.
 */
export class Governor {
  private latest?: Sample;
  private readonly pausing = new Hysteresis();
  private pauseReason = "";
  /** Predictions come faster than spare_core_predictions_per_s: runs leave a core to serving. */
  private readonly sparing = new Hysteresis();
  private sparingReason = "";
  private readonly runs = new Map<string, GovernedRun>();
  private readonly ungoverned = new Set<string>();
  /** The latency guard's threads per run, taken away while training slows the daemon's answers. */
  private readonly throttle: GuardThrottle;

  /** Rests runs between training stretches while the guard holds them to part of the time. */
  private readonly dutyCycle: DutyCycle;

  constructor(
    private limits: GovernorLimits,
    private readonly events: Events = { emit() {} },
    schedule: Schedule = realSchedule,
  ) {
    this.dutyCycle = new DutyCycle(() => this.applyAll(), schedule);
    this.throttle = new GuardThrottle(limits.latencyGuard, events, {
      runs: () => [...this.runs.values()],
      ungovernedRuns: () => this.ungoverned.size,
      threadsOf: (run) => Math.min(run.threadsInUse?.() ?? 1, this.threadsPerRun() ?? Infinity),
      apply: () => {
        this.dutyCycle.set(this.throttle.duty);
        this.applyAll();
      },
    });
  }

  setLimits(limits: GovernorLimits): void {
    this.limits = limits;
    this.throttle.setSettings(limits.latencyGuard);
  }

  get state(): {
    paused: boolean;
    reason: string;
    latest?: Sample;
    runs: number;
    sparingCore: boolean;
    sparingReason: string;
    threadsPerRun?: number;
    latency: GuardState;
  } {
    return {
      paused: this.pausing.active,
      reason: this.pauseReason,
      latest: this.latest,
      runs: this.runs.size,
      sparingCore: this.sparing.active,
      sparingReason: this.sparingReason,
      threadsPerRun: this.threadsPerRun(),
      latency: this.throttle.state,
    };
  }

  /** Whether a new run may start now, and if not, why (in the user's words). */
  admit(): Admission {
    const sample = this.latest;
    if (!sample) return { ok: false, reason: "no resource reading yet", cause: "no_reading" };
    if (this.pausing.active)
      return { ok: false, reason: `running jobs are paused: ${this.pauseReason}`, cause: "paused" };
    if (this.throttle.threadsPerRun === 0) {
      const reason = `the latency guard holds runs paused: ${this.throttle.state.reason}`;
      return { ok: false, reason, cause: "latency_guard" };
    }
    return admitOnReadings(sample, this.limits);
  }

  register(id: string, run: Omit<GovernedRun, "pausedSince">): () => void {
    const governed: GovernedRun = { ...run };
    this.runs.set(id, governed);
    this.applyAll();
    return () => {
      if (this.runs.delete(id)) this.applyAll();
    };
  }

  /** A run that trains past the governor (--ignore-governor, --force); returns its end. */
  trainingUngoverned(id: string): () => void {
    this.ungoverned.add(id);
    return () => this.ungoverned.delete(id);
  }

  /** One window of the daemon's answers (the feed's): the latency guard learns from it or acts on it. */
  observeLatency(window: LatencyWindow): void {
    this.throttle.observe(window);
  }

  /** Takes one sample: pauses or resumes the runs it governs, and ends runs paused longer than max_pause. */
  observe(sample: Sample): void {
    this.latest = sample;
    this.events.emit("governor.reading", { ...sample });
    this.followServing(sample);
    const over = this.overReason(sample);
    const change = this.pausing.step(over !== undefined, this.isCalm(sample), this.limits.pauseAfter);
    if (change === "enter" && over) {
      this.pauseReason = over;
      this.applyAll();
      this.events.emit("governor.paused", { reason: over, runs: this.runs.size });
    } else if (change === "leave") {
      const reason = this.pauseReason;
      this.pauseReason = "";
      this.applyAll();
      this.events.emit("governor.resumed", { after: reason, runs: this.runs.size });
    }
    // Paused by the readings or by the latency guard alike.
    for (const [id, run] of this.runs) {
      if (run.pausedSince !== undefined && sample.at - run.pausedSince >= this.limits.maxPauseMs) {
        this.runs.delete(id);
        this.events.emit("governor.max_pause", { run: id, paused_ms: sample.at - run.pausedSince });
        run.onMaxPause();
      }
    }
  }

  /**
   * Training threads in the idle class take only cores nobody else wants, yet once they fill every core,
   * each request waits for one of them to be preempted (measured: a busy API's p99 1.6× with two training
   * threads on two cores, 1.07× with one). So while predictions come fast, runs leave one core free.
   */
  private followServing(sample: Sample): void {
    const threshold = this.limits.spareCorePredictionsPerSecond;
    const rate = sample.predictionsPerSecond ?? 0;
    const change = this.sparing.step(
      threshold > 0 && rate > threshold,
      threshold === 0 || rate < threshold / 2,
      this.limits.pauseAfter,
    );
    if (change === "enter") {
      this.sparingReason = `${rate.toFixed(0)} predictions/s > spare_core_predictions_per_s ${threshold}`;
      this.applyAll();
      this.events.emit("governor.sparing_core", { reason: this.sparingReason, threads_per_run: this.threadsPerRun() });
    } else if (change === "leave") {
      const reason = this.sparingReason;
      this.sparingReason = "";
      this.applyAll();
      this.events.emit("governor.core_returned", { after: reason, runs: this.runs.size });
    }
  }

  /** While sparing a core: the other cores shared between the runs, at least one thread each. */
  private threadsPerRun(): number | undefined {
    if (!this.sparing.active) return undefined;
    return Math.max(1, Math.floor((this.limits.cores - 1) / Math.max(1, this.runs.size)));
  }

  /**
   * Each run paused while the readings or the latency guard want it, on the threads that sparing a core and
   * the guard leave it (none while it rests between training stretches); a run paused now keeps the time it was
   * first paused, for max_pause.
   */
  private applyAll(): void {
    const paused = this.pausing.active || this.throttle.threadsPerRun === 0;
    const limits = [this.threadsPerRun(), this.throttle.threadsPerRun || undefined].filter((n) => n !== undefined);
    // Resting is not a pause: the run stays "running" and counts no time toward max_pause.
    const allowed = !this.dutyCycle.training ? 0 : limits.length ? Math.min(...limits) : undefined;
    for (const run of this.runs.values()) {
      if (!paused) run.pausedSince = undefined;
      else run.pausedSince ??= this.latest?.at;
      run.setPaused(paused);
      run.setThreads?.(allowed);
    }
  }

  /** Unknown CPU or memory is never over a limit, like an unknown GPU: it pauses nothing. */
  private overReason(sample: Sample): string | undefined {
    const { limits } = this;
    const { cpuPercent: cpu, memoryPercent: memory } = sample;
    if (limits.pauseCpu < 100 && cpu !== undefined && cpu > limits.pauseCpu)
      return `CPU ${cpu.toFixed(0)} % > pause_cpu ${limits.pauseCpu} %`;
    if (limits.pauseMemory < 100 && memory !== undefined && memory > limits.pauseMemory)
      return `memory ${memory.toFixed(0)} % > pause_memory ${limits.pauseMemory} %`;
    const rate = sample.predictionsPerSecond;
    if (limits.pausePredictionsPerSecond > 0 && rate !== undefined && rate > limits.pausePredictionsPerSecond)
      return `${rate.toFixed(0)} predictions/s > pause_predictions_per_s ${limits.pausePredictionsPerSecond}`;
    if (sample.temperatureC !== undefined && sample.temperatureC > limits.maxTemperature)
      return `temperature ${sample.temperatureC.toFixed(0)} °C > max_temperature ${limits.maxTemperature} °C`;
    return gpuOverReason(sample, limits);
  }

  /** Unknown readings count as calm: a /proc that cannot be read must not keep runs paused for ever. */
  private isCalm(sample: Sample): boolean {
    const { limits } = this;
    const rate = sample.predictionsPerSecond ?? 0;
    return (
      (sample.cpuPercent ?? 0) < limits.resumeCpu &&
      (sample.memoryPercent ?? 0) < limits.resumeMemory &&
      (sample.temperatureC === undefined || sample.temperatureC < limits.maxTemperature - TEMPERATURE_HYSTERESIS_C) &&
      (limits.pausePredictionsPerSecond === 0 || rate < limits.pausePredictionsPerSecond / 2) &&
      gpuIsCalm(sample, limits)
    );
  }
}
