import { Box, Text } from "ink";
import type { ResourceHistory } from "../../runtime/api/contract.ts";
import { Sparkline } from "./gauges.tsx";

type Point = ResourceHistory["points"][number];

/** `values` averaged into `width` columns when there are more of them; fewer are left as they are. */
export function resample(values: number[], width: number): number[] {
  if (values.length <= width) return values;
  return Array.from({ length: width }, (_, column) => {
    const from = Math.floor((column * values.length) / width);
    const to = Math.max(from + 1, Math.floor(((column + 1) * values.length) / width));
    const slice = values.slice(from, to);
    return slice.reduce((sum, value) => sum + value, 0) / slice.length;
  });
}

const SERIES: Array<[string, (point: Point) => number | undefined]> = [
  ["CPU", (point) => point.cpu_percent],
  ["MEM", (point) => point.memory_percent],
  ["GPU", (point) => point.gpu_percent],
];

/** How many lines the history takes: one per series the daemon has readings of. */
export function hourHistoryLines(history: ResourceHistory | undefined): number {
  if (!history?.points.length) return 0;
  return SERIES.filter(([, of]) => history.points.some((point) => of(point) !== undefined)).length;
}

/** The daemon's last hour, one sparkline per reading, squeezed into `width` columns. */
export function HourHistory({ history, width }: { history?: ResourceHistory; width: number }) {
  if (!history?.points.length) return null;
  const minutes = Math.round((history.points.length * history.step_s) / 60);
  const span = `${minutes < 1 ? "<1" : minutes} min, ${history.step_s} s steps`;
  return (
    <Box flexDirection="column">
      {SERIES.filter(([, of]) => history.points.some((point) => of(point) !== undefined)).map(([label, of]) => (
        <Box key={label}>
          <Text>{`${label} 1h    `}</Text>
          <Sparkline
            values={resample(
              history.points.map((point) => of(point) ?? 0),
              width,
            )}
            width={width}
          />
          <Text dimColor>{`  ${span}`}</Text>
        </Box>
      ))}
    </Box>
  );
}
