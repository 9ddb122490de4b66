import { plot } from "asciichart";
import { Box, Text } from "ink";
import type { ModelVersion } from "../../runtime/api/contract.ts";

/** The metric a model is judged by: accuracy for a classifier, RMSE for a regressor, else its first. */
function chartedMetric(versions: ModelVersion[]): string | undefined {
  const names = new Set(versions.flatMap((version) => Object.keys(version.metrics ?? {})));
  return ["accuracy", "rmse"].find((name) => names.has(name)) ?? [...names][0];
}

interface ChartPoint {
  version: number;
  value: number;
}

/** The versions that have the charted metric, oldest first, with it; a chart needs two. */
export function chartPoints(versions: ModelVersion[]): { metric: string; points: ChartPoint[] } {
  const metric = chartedMetric(versions) ?? "";
  const points = versions
    .flatMap((version) => {
      const value = version.metrics?.[metric];
      return typeof value === "number" ? [{ version: version.version, value }] : [];
    })
    .toSorted((a, b) => a.version - b.version);
  return { metric, points };
}

/** A model's metric across its versions, oldest on the left, as a line chart (asciichart). */
export function VersionChart(props: { versions: ModelVersion[]; height?: number; width?: number }) {
  const { versions, height = 5, width = 48 } = props;
  const { metric, points } = chartPoints(versions);
  if (points.length < 2) return null;
  // Each version holds its columns until the next: a few versions still make a chart one can read.
  const repeat = Math.max(1, Math.floor(width / points.length));
  const values = points.flatMap((point) => Array<number>(repeat).fill(point.value));
  const chart = plot(values, { height, format: (value) => value.toFixed(3).padStart(7) });
  return (
    <Box flexDirection="column">
      <Text dimColor>{`${metric} by version, v${points[0]!.version} … v${points.at(-1)!.version}`}</Text>
      {chart.split("\n").map((line, i) => (
        <Text key={i}>{line}</Text>
      ))}
    </Box>
  );
}
