import { LatencyHistogram } from "./latency-histogram.ts";

/** `governor.latency_guard`, as the guard uses it. */
export interface LatencyGuardSettings {
  enabled: boolean;
  /** An absolute p99 target in ms; when absent, `factor` × the p99 learned while no run was active. */
  p99Ms?: number;
  factor: number;
  windowMs: number;
  /** Windows whose p99 together passes the target before a thread is taken, or stays calm before one is given back. */
  pauseAfter: number;
}

/** One window of the daemon's answers, as the feed measured it. */
export interface LatencyWindow {
  at: number;
  /** p99 of the window's latency signal in ms; undefined when it has no sample. */
  p99Ms?: number;
  /** The window's samples, so that a p99 can be read over several windows; absent: `p99Ms` stands for them. */
  delays?: LatencyHistogram;
  answers: number;
  /** Answers per second over the window. */
  rate: number;
}

/** What the guard made of the latest window while runs trained. */
export interface LatencyVerdict {
  /** The p99 judged: over the windows that led to the action, else over the latest pause_after windows. */
  p99Ms?: number;
  answers: number;
  /** The target the window was held to; undefined while the idle p99 is still unknown. */
  targetMs?: number;
  /** The idle p99 the target was derived from (factor mode). */
  idleP99Ms?: number;
  /** "throttle": take a thread away; "release": give one back. */
  action?: "throttle" | "release";
  /** Windows the p99 was read over. */
  windows: number;
}

/** Windows with fewer answers than this each say too little about a p99: they count as calm. */
export const MIN_ANSWERS = 20;
/** Give a thread back once the p99 stays under this share of the target. */
export const RELEASE_BELOW = 0.7;
/** Idle windows remembered to learn the idle p99 from. */
const IDLE_WINDOWS = 64;
/** A release taken back within this many × pause_after windows doubles the calm the next one needs, up to 16×. */
const BACKOFF_WITHIN = 4;
const MAX_BACKOFF = 4;

/** The p99 over `windows` together, and their answers; without their samples, the highest of their p99s. */
function spanOf(windows: LatencyWindow[]): { p99Ms?: number; answers: number } {
  const answers = windows.reduce((sum, window) => sum + window.answers, 0);
  if (windows.some((window) => !window.delays)) {
    const p99s = windows.flatMap((window) => (window.p99Ms === undefined ? [] : [window.p99Ms]));
    return { p99Ms: p99s.length ? Math.max(...p99s) : undefined, answers };
  }
  const merged = new LatencyHistogram();
  for (const window of windows) merged.add(window.delays!);
  return { p99Ms: merged.percentile(0.99), answers };
}

/**
 * The latency guard's judgement: fed one window at a time, it learns the p99 while no run trains, and while
 * runs train says when to take a training thread away (the p99 over the latest pause_after windows together
 * passes the target) and when to give one back (it stays under 0.7× the target as long). Reading the p99 over
 * the windows together, not each window's alone, keeps one quiet window from hiding a slow stretch. It holds no
 * timer and no run, so a test can feed it an afternoon of windows.
 */
export class LatencyGuard {
  private idle: Array<{ p99Ms: number; rate: number }> = [];
  /** Training windows since the last action (or idle window), newest last. */
  private recent: LatencyWindow[] = [];
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
    this.recent = [];
    if (window.p99Ms === undefined || window.answers < MIN_ANSWERS) return;
    this.idle.push({ p99Ms: window.p99Ms, rate: window.rate });
    if (this.idle.length > IDLE_WINDOWS) this.idle.shift();
  }

  /**
   * A window in which runs trained. `throttled`: the guard holds threads back now, so a calm stretch may give
   * one back; `canThrottle`: some run still trains, so a slow stretch may take one.
   */
  observeTraining(window: LatencyWindow, throttled: boolean, canThrottle: boolean): LatencyVerdict {
    const { settings } = this;
    const idleP99Ms = settings.p99Ms === undefined ? this.idleP99(window.rate) : undefined;
    const targetMs = settings.p99Ms ?? (idleP99Ms === undefined ? undefined : idleP99Ms * settings.factor);
    this.windowsSinceRelease++;
    if (this.releaseOnTrial && this.windowsSinceRelease > BACKOFF_WITHIN * settings.pauseAfter) {
      this.releaseOnTrial = false;
      this.backoff = Math.max(0, this.backoff - 1);
    }
    const calmNeeded = settings.pauseAfter * 2 ** this.backoff;
    this.recent.push(window);
    while (this.recent.length > calmNeeded) this.recent.shift();
    const last = this.recent.slice(-settings.pauseAfter);
    const span = last.length === settings.pauseAfter ? spanOf(last) : { p99Ms: window.p99Ms, answers: window.answers };
    const verdict: LatencyVerdict = { ...span, targetMs, idleP99Ms, windows: last.length };
    if (!settings.enabled || targetMs === undefined || last.length < settings.pauseAfter) return verdict;
    const judged = (s: { p99Ms?: number; answers: number }, windows: number) =>
      s.p99Ms !== undefined && s.answers >= MIN_ANSWERS * windows;
    if (canThrottle && judged(span, last.length) && span.p99Ms! > targetMs) {
      if (this.releaseOnTrial) this.backoff = Math.min(MAX_BACKOFF, this.backoff + 1);
      this.releaseOnTrial = false;
      this.recent = [];
      return { ...verdict, action: "throttle" };
    }
    if (throttled && this.recent.length >= calmNeeded) {
      const calm = spanOf(this.recent);
      if (!judged(calm, this.recent.length) || calm.p99Ms! < RELEASE_BELOW * targetMs) {
        const released = { ...verdict, ...calm, windows: this.recent.length, action: "release" as const };
        this.recent = [];
        this.windowsSinceRelease = 0;
        this.releaseOnTrial = true;
        return released;
      }
    }
    return verdict;
  }
}
