import * as v from "valibot";

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/;

/** A duration in a profile: `"500ms"`, `"10s"`, `"5m"`, `"6h"`, `"7d"`, `"2w"`, or a number of seconds. */
export const Duration = v.pipe(
  v.union(
    [
      v.pipe(v.number(), v.minValue(0)),
      v.pipe(v.string(), v.regex(DURATION, 'a duration such as "500ms", "10s", "5m", "6h", "7d"')),
    ],
    'a duration such as "10s", "5m", "6h" or a number of seconds',
  ),
  v.description('A duration: "500ms", "10s", "5m", "6h", "7d", "2w", or a number of seconds.'),
);
export type Duration = v.InferOutput<typeof Duration>;

/** A Duration no shorter than `minimum` (e.g. `"100ms"`): a period a timer repeats at, which 0 would make spin. */
export const durationAtLeast = (minimum: string) =>
  v.pipe(
    Duration,
    v.check(
      (duration) => durationMs(duration) >= durationMs(minimum),
      (issue) => `expected at least ${minimum}, got ${issue.received}`,
    ),
  );

export function durationMs(duration: Duration): number {
  if (typeof duration === "number") return duration * 1000;
  const match = DURATION.exec(duration.trim());
  if (!match) throw new Error(`not a duration: ${duration}`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}
