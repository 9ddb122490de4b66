import { Text } from "ink";
import { useColor } from "./theme.tsx";

const BLOCKS = "▁▂▃▄▅▆▇█";

/** The last `width` values (0–100) as block characters; a limit is drawn as `┃` where it would be crossed. */
export function Sparkline({ values, width, limit }: { values: number[]; width: number; limit?: number }) {
  const color = useColor();
  const shown = values.slice(-width);
  const text = shown
    .map((value) => BLOCKS[Math.max(0, Math.min(BLOCKS.length - 1, Math.floor((value / 100) * BLOCKS.length)))])
    .join("")
    .padStart(width, " ");
  const over = limit !== undefined && shown.some((value) => value >= limit);
  return <Text color={over ? color("yellow") : color("cyan")}>{text}</Text>;
}

/** `[████······] 42%`, plain characters so it reads on any terminal. */
export function ProgressBar({ fraction, width = 20 }: { fraction: number; width?: number }) {
  const color = useColor();
  const clamped = Math.max(0, Math.min(1, fraction));
  const filled = Math.round(clamped * width);
  return (
    <Text>
      [<Text color={color("green")}>{"█".repeat(filled)}</Text>
      {"·".repeat(width - filled)}] {String(Math.round(clamped * 100)).padStart(3)}%
    </Text>
  );
}

export function percent(value: number | undefined): string {
  return value === undefined ? "  -" : `${value.toFixed(0).padStart(3)}%`;
}

export function ago(ms: number | undefined, now = Date.now()): string {
  if (ms === undefined) return "-";
  const seconds = Math.max(0, Math.round((now - ms) / 1000));
  return seconds < 60
    ? `${seconds}s`
    : seconds < 3600
      ? `${Math.floor(seconds / 60)}m`
      : `${Math.floor(seconds / 3600)}h`;
}

/** `accuracy 0.812 f1 0.774`: the first `limit` metrics, for a table cell. */
export function metricsShort(
  metrics: Record<string, number> | null | undefined,
  limit = Number.POSITIVE_INFINITY,
): string {
  return Object.entries(metrics ?? {})
    .slice(0, limit)
    .map(([name, value]) => `${name} ${value.toFixed(3)}`)
    .join(" ");
}
