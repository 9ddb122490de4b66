import { describeHour, hourOfWeek, WEEK_HOURS } from "./hour-of-week.ts";
import { USAGE_METRICS, type UsageMetric, type UsagePoint } from "./usage-source.ts";

export interface WeeklyActivity {
  /** Per hour of the week, the weighted activity score in 0…1 (0 = the quietest seen). */
  score: number[];
  /** Observations behind it. */
  points: number;
  trusted: boolean;
}

export interface OffPeakWindow {
  /** First hour of the week (0 = Sunday 00:00). */
  start: number;
  hours: number;
  /** Mean score inside the window; lower is quieter. */
  score: number;
  label: string;
}

/**
 * Scores every hour of the week from the usage history: per metric, the mean per hour-of-week slot
 * (players: sum per hour, averaged over the weeks seen), scaled to 0…1 by its busiest hour, then
 * weighted. Fewer than `minPoints` observations and the result is not trusted.
 */
export function weeklyActivity(
  points: UsagePoint[],
  weights: Partial<Record<UsageMetric, number>>,
  minPoints: number,
  timeZone?: string,
): WeeklyActivity {
  const sums = Object.fromEntries(USAGE_METRICS.map((m) => [m, new Float64Array(WEEK_HOURS)])) as Record<
    UsageMetric,
    Float64Array
  >;
  const counts = Object.fromEntries(USAGE_METRICS.map((m) => [m, new Float64Array(WEEK_HOURS)])) as Record<
    UsageMetric,
    Float64Array
  >;
  const weeksSeen = new Set<number>();
  for (const point of points) {
    const hour = hourOfWeek(point.at, timeZone);
    weeksSeen.add(Math.floor(point.at / (WEEK_HOURS * 3_600_000)));
    for (const metric of USAGE_METRICS) {
      const value = point.values[metric];
      if (value === undefined || !Number.isFinite(value)) continue;
      sums[metric][hour]! += value;
      counts[metric][hour]! += 1;
    }
  }
  const score = new Array<number>(WEEK_HOURS).fill(0);
  let totalWeight = 0;
  for (const metric of USAGE_METRICS) {
    const weight = weights[metric] ?? 0;
    if (weight <= 0 || !counts[metric].some((c) => c > 0)) continue;
    // Players are counted (logins per hour); CPU and memory are levels (mean per sample).
    const level = Array.from(sums[metric], (sum, hour) =>
      metric === "players"
        ? sum / Math.max(1, weeksSeen.size)
        : counts[metric][hour]! > 0
          ? sum / counts[metric][hour]!
          : 0,
    );
    const busiest = Math.max(...level) || 1;
    level.forEach((value, hour) => (score[hour]! += (weight * value) / busiest));
    totalWeight += weight;
  }
  return {
    score: score.map((s) => (totalWeight ? s / totalWeight : 0)),
    points: points.length,
    trusted: points.length >= minPoints,
  };
}

/**
 * Several sources' hour-of-week scores as one: each already scaled to 0…1 by its own busiest hour, then
 * averaged by the sources' weights, so a source of counts and one of levels weigh as their users said.
 */
export function combineActivity(
  sources: Array<{ weight: number; activity: WeeklyActivity }>,
  minPoints: number,
): WeeklyActivity {
  const score = new Array<number>(WEEK_HOURS).fill(0);
  const counted = sources.filter((source) => source.weight > 0 && source.activity.points > 0);
  const totalWeight = counted.reduce((sum, source) => sum + source.weight, 0);
  for (const { weight, activity } of counted) {
    activity.score.forEach((value, hour) => (score[hour]! += (weight * value) / totalWeight));
  }
  const points = sources.reduce((sum, source) => sum + source.activity.points, 0);
  return { score, points, trusted: points >= minPoints };
}

/** The `count` quietest windows of `hours` consecutive hours (wrapping Saturday into Sunday), not overlapping. */
export function quietestWindows(activity: WeeklyActivity, hours: number, count: number): OffPeakWindow[] {
  const candidates = Array.from({ length: WEEK_HOURS }, (_, start) => {
    let sum = 0;
    for (let h = 0; h < hours; h++) sum += activity.score[(start + h) % WEEK_HOURS]!;
    return { start, hours, score: sum / hours };
  }).sort((a, b) => a.score - b.score || a.start - b.start);
  const chosen: OffPeakWindow[] = [];
  const taken = new Set<number>();
  for (const candidate of candidates) {
    if (chosen.length >= count) break;
    const span = Array.from({ length: hours }, (_, h) => (candidate.start + h) % WEEK_HOURS);
    if (span.some((hour) => taken.has(hour))) continue;
    span.forEach((hour) => taken.add(hour));
    chosen.push({
      ...candidate,
      label: `${describeHour(candidate.start)}–${describeHour(candidate.start + hours).slice(4)}`,
    });
  }
  return chosen;
}

export function inWindow(windows: OffPeakWindow[], hour: number): boolean {
  return windows.some((w) => (hour - w.start + WEEK_HOURS) % WEEK_HOURS < w.hours);
}

/** Milliseconds from `now` to the start of the next window (0 when inside one). */
export function msToNextWindow(windows: OffPeakWindow[], now: number, timeZone?: string): number | undefined {
  if (windows.length === 0) return undefined;
  const hour = hourOfWeek(now, timeZone);
  if (inWindow(windows, hour)) return 0;
  const ahead = Math.min(...windows.map((w) => (w.start - hour + WEEK_HOURS) % WEEK_HOURS));
  const intoHour = now % 3_600_000;
  return ahead * 3_600_000 - intoHour;
}

/** The hours of the week (0 = Sunday 00:00) inside a window, for a heat map. */
export function windowHours(windows: OffPeakWindow[]): number[] {
  return Array.from({ length: WEEK_HOURS }, (_, hour) => hour).filter((hour) => inWindow(windows, hour));
}
