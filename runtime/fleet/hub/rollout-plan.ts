import { EdgetrainError } from "../../errors.ts";

/** How a rollout goes: cumulative shares of its devices per wave, the failures it tolerates, how long a wave waits. */
export interface RolloutPlan {
  /** Cumulative fractions, ascending, the last 1: [0.01, 0.1, 0.5, 1]. */
  waves: number[];
  /** A fraction: past it, the rollout halts. */
  maxFailures: number;
  waveTimeoutMs: number;
}

export const DEFAULT_PLAN: RolloutPlan = { waves: [0.01, 0.1, 0.5, 1], maxFailures: 0.05, waveTimeoutMs: 10 * 60_000 };

/** `1%,10%,50%,100%` (or `0.01,0.1,…`) as cumulative fractions; the last wave must reach every device. */
export function parseWaves(text: string): number[] {
  const waves = text.split(",").map((part) => parseShare(part.trim(), "--waves"));
  for (let i = 1; i < waves.length; i++) {
    if (waves[i]! <= waves[i - 1]!)
      throw new EdgetrainError("usage", `--waves ${text}: each wave must cover more devices than the one before`);
  }
  if (waves.at(-1) !== 1)
    throw new EdgetrainError(
      "usage",
      `--waves ${text}: the last wave must be 100%, so that every device gets the version`,
    );
  return waves;
}

/** `5%` or `0.05`. */
export function parseShare(text: string, flag: string): number {
  const percent = text.endsWith("%");
  const value = Number(percent ? text.slice(0, -1) : text) / (percent ? 100 : 1);
  if (text === "" || !Number.isFinite(value) || value < 0 || value > 1)
    throw new EdgetrainError("usage", `${flag} ${text}: expected a share such as 5% or 0.05`);
  return value;
}

/** `10m`, `90s`, `1h`, or milliseconds as a bare number. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new EdgetrainError("usage", `${flag} ${text}: expected a duration such as 90s, 10m or 1h`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? "ms"]!;
  return Math.round(Number(match[1]) * unit);
}

/**
 * The wave (1-based) of each of `count` devices, in their order: wave i takes the devices up to
 * ceil(share_i × count). Small fleets can leave a wave empty; it then passes at once.
 */
export function waveOf(count: number, waves: readonly number[]): number[] {
  const ends = waves.map((share) => Math.min(count, Math.ceil(share * count - 1e-9)));
  return Array.from({ length: count }, (_, index) => ends.findIndex((end) => index < end) + 1);
}
