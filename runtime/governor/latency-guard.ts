/** `governor.latency_guard`, as the guard uses it. */
export interface LatencyGuardSettings {
  enabled: boolean;
  /** An absolute p99 target in ms; when absent, `factor` × the p99 learned while no run was active. */
  p99Ms?: number;
  factor: number;
  windowMs: number;
  /** Consecutive windows over the target before a thread is taken, and calm ones before one is given back. */
  pauseAfter: number;
}

/** One window of the daemon's answers, as the feed measured it. */
export interface LatencyWindow {
  at: number;
  /** p99 of the window's latency signal in ms; undefined when it saw no answer. */
  p99Ms?: number;
  answers: number;
  /** Answers per second over the window. */
  rate: number;
}

/** What the guard made of the latest window while runs trained. */
export interface LatencyVerdict {
  p99Ms?: number;
  answers: number;
  /** The target the window was held to; undefined while the idle p99 is still unknown. */
  targetMs?: number;
  /** The idle p99 the target was derived from (factor mode). */
  idleP99Ms?: number;
  /** "throttle": take a thread away; "release": give one back. */
  action?: "throttle" | "release";
  /** Consecutive windows that led to the action. */
  windows: number;
}

/** A window with fewer answers says too little about a p99: it counts as calm. */
export const MIN_ANSWERS = 20;
/** Give a thread back once the p99 stays under this share of the target. */
export const RELEASE_BELOW = 0.7;
/** Idle windows remembered to learn the idle p99 from. */
const IDLE_WINDOWS = 64;
/** A release taken back within this many windows doubles the calm needed for the next, up to this many times. */
const BACKOFF_WITHIN = 4;
const MAX_BACKOFF = 4;

/**
 * The latency guard's judgement: fed one window at a time, it learns the p99 while no run trains, and while
 * runs train says when to take a training thread away (the p99 over the target for `pauseAfter` windows) and
 * when to give one back (under 0.7× the target as long). It holds no timer and no run, so a test can feed it
 * an afternoon of windows.
 */
export class LatencyGuard {
  private idle: Array<{ p99Ms: number; rate: number }> = [];
  private over = 0;
  private calm = 0;
  /** How many times the calm needed before a release has doubled: a release soon undone waits longer next time. */
  private backoff = 0;
  private windowsSinceRelease = Infinity;
  /** A release not yet taken back: once it has held BACKOFF_WITHIN × pauseAfter windows, the backoff eases. */
  private releaseOnTrial = false;

  constructor(private settings: LatencyGuardSettings) {}

  setSettings(settings: LatencyGuardSettings): void {
    this.settings = settings;
  }

  /** The idle p99 at a load like `rate` (within 2×), else over every idle window; undefined before any. */
  idleP99(rate: number): number | undefined {
    const near = this.idle.filter((window) => window.rate >= rate / 2 && window.rate <= rate * 2);
    const pool = near.length > 0 ? near : this.idle;
    if (pool.length === 0) return undefined;
    const sorted = pool.map((window) => window.p99Ms).sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  }

  /** A window in which no run trained: it teaches the idle p99, and ends any streak. */
  observeIdle(window: LatencyWindow): void {
    this.over = 0;
    this.calm = 0;
    if (window.p99Ms === undefined || window.answers < MIN_ANSWERS) return;
    this.idle.push({ p99Ms: window.p99Ms, rate: window.rate });
    if (this.idle.length > IDLE_WINDOWS) this.idle.shift();
  }

  /**
   * A window in which runs trained. `throttled`: the guard holds threads back now, so a calm streak may give
   * one back; `canThrottle`: some run still trains, so an overloaded streak may take one.
   */
  observeTraining(window: LatencyWindow, throttled: boolean, canThrottle: boolean): LatencyVerdict {
    const { settings } = this;
    const idleP99Ms = settings.p99Ms === undefined ? this.idleP99(window.rate) : undefined;
    const targetMs = settings.p99Ms ?? (idleP99Ms === undefined ? undefined : idleP99Ms * settings.factor);
    const verdict: LatencyVerdict = { p99Ms: window.p99Ms, answers: window.answers, targetMs, idleP99Ms, windows: 0 };
    this.windowsSinceRelease++;
    if (this.releaseOnTrial && this.windowsSinceRelease > BACKOFF_WITHIN * settings.pauseAfter) {
      this.releaseOnTrial = false;
      this.backoff = Math.max(0, this.backoff - 1);
    }
    if (!settings.enabled || targetMs === undefined) return verdict;
    const judged = window.p99Ms !== undefined && window.answers >= MIN_ANSWERS;
    const over = judged && window.p99Ms! > targetMs;
    const calm = !judged || window.p99Ms! < RELEASE_BELOW * targetMs;
    this.over = over ? this.over + 1 : 0;
    this.calm = calm ? this.calm + 1 : 0;
    if (over && canThrottle && this.over >= settings.pauseAfter) {
      verdict.windows = this.over;
      this.over = 0;
      if (this.releaseOnTrial) this.backoff = Math.min(MAX_BACKOFF, this.backoff + 1);
      this.releaseOnTrial = false;
      return { ...verdict, action: "throttle" };
    }
    if (calm && throttled && this.calm >= settings.pauseAfter * 2 ** this.backoff) {
      verdict.windows = this.calm;
      this.calm = 0;
      this.windowsSinceRelease = 0;
      this.releaseOnTrial = true;
      return { ...verdict, action: "release" };
    }
    return verdict;
  }
}
