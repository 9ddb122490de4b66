import { Box, Text } from "ink";
import type { OffPeak } from "../../runtime/api/contract.ts";
import { weekHeatMap } from "../week-heat-map.ts";
import { useColor } from "./theme.tsx";

/** The daemon's hour-of-week activity as a heat map, off-peak windows in green; nothing until it is learned. */
export function OffPeakWeek({ offpeak }: { offpeak?: OffPeak }) {
  const color = useColor();
  if (!offpeak?.hour_scores) return null;
  const lines = weekHeatMap(offpeak.hour_scores, offpeak.window_hours ?? []);
  return (
    <Box flexDirection="column">
      <Text dimColor>activity by hour of the week (UTC or usage.timezone): · quiet … █ busy, W off-peak window</Text>
      {lines.map((line, i) => (
        <Text key={i}>
          {line.split(/(W+)/).map((part, j) => (
            <Text key={j} color={part.startsWith("W") ? color("green") : undefined}>
              {part}
            </Text>
          ))}
        </Text>
      ))}
    </Box>
  );
}
