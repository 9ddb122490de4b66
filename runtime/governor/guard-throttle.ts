import type { Events } from "../events/bus.ts";
import type { GovernedRun } from "./governor.ts";
import {
  LatencyGuard,
  type LatencyGuardSettings,
  type LatencyVerdict,
  type LatencyWindow,
  MIN_ANSWERS,
  RELEASE_BELOW,
} from "./latency-guard.ts";

/** What the latency guard shows in status, the TUI and /metrics. */
export interface GuardState {
  enabled: boolean;
  /** Threads each run may train on; undefined: no limit; 0: runs paused. */
  threadsPerRun?: number;
  /** The share of each period a run on one thread trains, resting the rest; undefined: all the time. */
  duty?: number;
  /** Why threads are held back now; empty when none are. */
  reason: string;
  /** The latest window: its p99, the target it was held to and the idle p99 behind that target. */
  p99Ms?: number;
  targetMs?: number;
  idleP99Ms?: number;
  answers: number;
}

interface ThrottleParts {
  runs(): GovernedRun[];
  /** Runs training past the governor: their windows are not idle ones. */
  ungovernedRuns(): number;
  /** Threads a run trains on now, before the guard: as many as it has, or fewer while a core is spared. */
  threadsOf(run: GovernedRun): number;
  /** Re-applies pauses and thread allowances to every run. */
  apply(): void;
}

/**
 * The steps between one training thread and a pause: the share of each period that thread trains. On a 2-vCPU VM a
 * training thread that stays on a core makes each request woken on that core wait for it; resting part of the time
 * spares the requests that arrive meanwhile.
 */
export const DUTY_STEPS: readonly number[] = [0.75, 0.5, 0.25];

const ms = (value: number | undefined) => (value === undefined ? "-" : `${value.toFixed(value < 10 ? 2 : 1)} ms`);

/**
 * The latency guard's hold on runs: one threads-per-run allowance for all of them, lowered one thread at a
 * time, then from one thread through the duty steps (training 75, 50, 25 % of the time) to 0 (paused) while the
 * guard finds training slows the daemon's answers, raised the same way as they calm down.
 * It outlives a run, so back-to-back runs start where the last one left, and is lifted once no run has
 * trained for pause_after windows.
 */
export class GuardThrottle {
  private readonly guard: LatencyGuard;
  private settings?: LatencyGuardSettings;
  threadsPerRun?: number;
  /** The index in DUTY_STEPS while runs train on one thread part of the time. */
  private dutyStep?: number;
  private reason = "";
  private latest?: { window: LatencyWindow; verdict?: LatencyVerdict };
  private windowsWithoutRuns = 0;

  constructor(
    settings: LatencyGuardSettings | undefined,
    private readonly events: Events,
    private readonly parts: ThrottleParts,
  ) {
    this.settings = settings;
    this.guard = new LatencyGuard(settings ?? { enabled: false, factor: 1.5, windowMs: 5000, pauseAfter: 2 });
  }

  setSettings(settings: LatencyGuardSettings | undefined): void {
    this.settings = settings;
    if (settings) this.guard.setSettings(settings);
    if (!settings?.enabled && this.threadsPerRun !== undefined)
      this.lift(undefined, "the latency guard was turned off");
  }

  get state(): GuardState {
    const verdict = this.latest?.verdict;
    const window = this.latest?.window;
    const settings = this.settings;
    // With no run training, what the latest window would have been held to.
    const idleP99Ms = verdict ? verdict.idleP99Ms : window && this.guard.idleP99(window.rate);
    const wouldBe = settings?.p99Ms ?? (idleP99Ms === undefined ? undefined : idleP99Ms * (settings?.factor ?? 1));
    return {
      enabled: settings?.enabled ?? false,
      threadsPerRun: this.threadsPerRun,
      duty: this.duty,
      reason: this.reason,
      p99Ms: window?.p99Ms,
      targetMs: verdict ? verdict.targetMs : wouldBe,
      idleP99Ms,
      answers: window?.answers ?? 0,
    };
  }

  observe(window: LatencyWindow): void {
    const settings = this.settings;
    if (!settings?.enabled) return;
    const runs = this.parts.runs();
    if (runs.length === 0) {
      if (this.parts.ungovernedRuns() === 0) this.guard.observeIdle(window);
      this.latest = { window };
      if (this.threadsPerRun !== undefined && ++this.windowsWithoutRuns >= settings.pauseAfter) {
        this.lift(window.p99Ms, `no run has trained for ${this.windowsWithoutRuns} windows`);
      }
      return;
    }
    this.windowsWithoutRuns = 0;
    const verdict = this.guard.observeTraining(window, this.threadsPerRun !== undefined, this.threadsPerRun !== 0);
    this.latest = { window, verdict };
    if (verdict.action === "throttle") this.take(runs, verdict);
    else if (verdict.action === "release") this.giveBack(runs, verdict);
  }

  /** The share of each period runs on one thread train; undefined: all the time. */
  get duty(): number | undefined {
    return this.dutyStep === undefined ? undefined : DUTY_STEPS[this.dutyStep];
  }

  private take(runs: GovernedRun[], verdict: LatencyVerdict): void {
    const most = Math.max(...runs.map((run) => Math.min(this.parts.threadsOf(run), this.threadsPerRun ?? Infinity)));
    if (most > 1) this.threadsPerRun = most - 1;
    else {
      const step = this.dutyStep === undefined ? 0 : this.dutyStep + 1;
      this.threadsPerRun = step < DUTY_STEPS.length ? 1 : 0;
      this.dutyStep = step < DUTY_STEPS.length ? step : undefined;
    }
    const target =
      this.settings!.p99Ms !== undefined ? "p99_ms" : `${this.settings!.factor}× idle p99 ${ms(verdict.idleP99Ms)}`;
    const over = `serving delay p99 ${ms(verdict.p99Ms)} > ${ms(verdict.targetMs)} (${target})`;
    this.reason = `${over} for ${this.windows(verdict)}: ${this.hold()}`;
    this.parts.apply();
    this.events.emit("governor.throttled", {
      ...this.figures(verdict),
      threads_per_run: this.threadsPerRun,
      ...(this.duty === undefined ? {} : { duty: this.duty }),
      runs: runs.length,
      reason: this.reason,
    });
  }

  private giveBack(runs: GovernedRun[], verdict: LatencyVerdict): void {
    // Counted as take() counts them, under a spared core: past what that leaves, a thread more changes nothing.
    const most = Math.max(...runs.map((run) => this.parts.threadsOf(run)));
    if (this.threadsPerRun === 0) {
      this.threadsPerRun = 1;
      this.dutyStep = DUTY_STEPS.length - 1;
    } else if (this.dutyStep !== undefined) {
      this.dutyStep = this.dutyStep > 0 ? this.dutyStep - 1 : undefined;
      if (this.dutyStep === undefined && most <= 1) this.threadsPerRun = undefined;
    } else {
      const next = (this.threadsPerRun ?? most) + 1;
      this.threadsPerRun = next >= most ? undefined : next;
    }
    const under = `${ms(verdict.targetMs! * RELEASE_BELOW)} (${RELEASE_BELOW}× the target ${ms(verdict.targetMs)})`;
    const calm =
      verdict.p99Ms === undefined || verdict.answers < MIN_ANSWERS
        ? `fewer than ${MIN_ANSWERS} answers a window for ${this.windows(verdict)}`
        : `serving delay p99 ${ms(verdict.p99Ms)} < ${under} for ${this.windows(verdict)}`;
    this.reason = this.threadsPerRun === undefined ? "" : `${calm}: ${this.hold()}`;
    this.parts.apply();
    const data = {
      ...this.figures(verdict),
      threads_per_run: this.threadsPerRun,
      ...(this.duty === undefined ? {} : { duty: this.duty }),
      runs: runs.length,
      reason: `${calm}: ${this.hold()}`,
    };
    this.events.emit("governor.released", data);
  }

  /** `runs train on 2 thread(s)`, `runs train on 1 thread(s) 50 % of the time`, `runs paused`. */
  private hold(): string {
    if (this.threadsPerRun === undefined) return "runs train on all their threads";
    if (this.threadsPerRun === 0) return "runs paused";
    const part = this.duty === undefined ? "" : ` ${Math.round(this.duty * 100)} % of the time`;
    return `runs train on ${this.threadsPerRun} thread(s)${part}`;
  }

  private lift(p99Ms: number | undefined, why: string): void {
    this.threadsPerRun = undefined;
    this.dutyStep = undefined;
    this.reason = "";
    this.windowsWithoutRuns = 0;
    this.parts.apply();
    const windowS = (this.settings?.windowMs ?? 0) / 1000;
    const runs = this.parts.runs().length;
    this.events.emit("governor.released", { p99_ms: p99Ms, windows: 0, window_s: windowS, runs, reason: why });
  }

  /** `2 windows of 5 s`. */
  private windows(verdict: LatencyVerdict): string {
    return `${verdict.windows} window${verdict.windows === 1 ? "" : "s"} of ${this.settings!.windowMs / 1000} s`;
  }

  private figures(verdict: LatencyVerdict) {
    return {
      p99_ms: verdict.p99Ms,
      target_ms: verdict.targetMs,
      idle_p99_ms: verdict.idleP99Ms,
      windows: verdict.windows,
      window_s: this.settings!.windowMs / 1000,
    };
  }
}
