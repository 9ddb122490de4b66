import { Box, Text } from "ink";
import type { Conflict } from "../../runtime/api/contract.ts";
import { useColor } from "./theme.tsx";

/** A job met a live predictor and asks: what would be trained, what is in the way, the choices and the countdown. */
export function ConflictModal({ conflict, now, sending }: { conflict: Conflict; now: number; sending?: string }) {
  const color = useColor();
  const seconds = Math.max(0, Math.ceil((conflict.deadline - now) / 1000));
  return (
    <Box flexDirection="column" borderStyle="double" borderColor={color("yellow")} paddingX={1}>
      <Text bold color={color("yellow")}>
        Conflict: job {conflict.job}
        {conflict.key ? ` for ${conflict.key}` : ""} wants to train while a predictor runs
      </Text>
      {conflict.predictors.map((p, i) => (
        <Text key={i}>
          {"  "}• {p.name}: {p.found}
          {p.pid ? ` pid ${p.pid}` : ""}
          {p.lockfile ? ` lock ${p.lockfile}` : ""}
          {p.model ? ` model ${p.model}` : ""}
          {p.command ? ` — ${p.command.slice(0, 50)}` : ""}
        </Text>
      ))}
      <Text>
        <Text bold>[w]</Text> wait  <Text bold>[s]</Text> skip  <Text bold>[f]</Text> force — {conflict.default_answer} in {seconds}s
        {sending ? `  (sending ${sending}…)` : ""}
      </Text>
    </Box>
  );
}
