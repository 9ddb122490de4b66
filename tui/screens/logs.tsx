import { Box, Text } from "ink";
import type { LogLine } from "../../runtime/api/contract.ts";
import { useColor } from "../components/theme.tsx";

/** Least to most severe: the level filter cycles through them in this order. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
const LEVEL_COLOR = { debug: "gray", info: "white", warn: "yellow", error: "red" } as const;

/** As the daemon's console log writes a field: metrics to four significant digits, not sixteen. */
const fieldText = (value: unknown) =>
  typeof value === "string"
    ? value
    : typeof value === "number" && Number.isFinite(value) && !Number.isInteger(value)
      ? String(Math.abs(value) >= 1 ? Number(value.toFixed(3)) : Number(value.toPrecision(4)))
      : JSON.stringify(value);

/** The daemon's log, followed; l cycles the level filter, j the job filter. */
export function Logs({
  lines,
  level,
  job,
  height,
  width,
}: {
  lines: LogLine[];
  level: (typeof LOG_LEVELS)[number];
  job?: string;
  height: number;
  width: number;
}) {
  const color = useColor();
  const shown = lines
    .filter(
      (line) => LOG_LEVELS.indexOf(line.level) >= LOG_LEVELS.indexOf(level) && (job === undefined || line.job === job),
    )
    .slice(-Math.max(1, height - 1));
  return (
    <Box flexDirection="column">
      <Text dimColor>
        level ≥ {level} · job {job ?? "all"} · l level · j job
      </Text>
      {shown.map((line, i) => {
        const { time, level: lineLevel, msg, ...fields } = line;
        const extra = Object.entries(fields)
          .map(([k, v]) => `${k}=${fieldText(v)}`)
          .join(" ");
        const levelText = lineLevel.toUpperCase().padEnd(5);
        return (
          <Text key={i} wrap="truncate">
            {time.slice(11, 19)} <Text color={color(LEVEL_COLOR[lineLevel])}>{levelText}</Text>{" "}
            {`${msg} ${extra}`.slice(0, Math.max(20, width - 16))}
          </Text>
        );
      })}
    </Box>
  );
}
