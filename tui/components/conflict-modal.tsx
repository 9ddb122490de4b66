import { Box, Text } from "ink";
import type { Conflict } from "../../runtime/api/contract.ts";
import { useColor } from "./theme.tsx";

const KEYS_SHOWN = 6;

/** Lines the modal takes: its border, the question, one per predictor, the keys (when several wait) and the choices. */
export function conflictModalHeight(conflict: Conflict): number {
  return 4 + conflict.predictors.length + (conflict.keys.length > 1 ? 1 : 0);
}

/** `player_1, player_2, … 27 more`. */
function keyList(keys: readonly string[]): string {
  const more = keys.length - KEYS_SHOWN;
  return keys.slice(0, KEYS_SHOWN).join(", ") + (more > 0 ? `, … ${more} more` : "");
}

/**
 * Live predictors stand in the way of a job: the question (one for every key waiting on the same
 * predictors), what is in the way, the keys, the choices and the countdown. `selected` is the key answered
 * on its own; without one the answer goes to every key waiting.
 */
export function ConflictModal(props: { conflict: Conflict; now: number; sending?: string; selected?: string }) {
  const { conflict, now, sending, selected } = props;
  const color = useColor();
  const seconds = Math.max(0, Math.ceil((conflict.deadline - now) / 1000));
  const several = conflict.keys.length > 1;
  const position = selected === undefined ? -1 : conflict.keys.indexOf(selected);
  return (
    <Box flexDirection="column" borderStyle="double" borderColor={color("yellow")} paddingX={1}>
      <Text bold color={color("yellow")} wrap="truncate">
        Conflict: {conflict.summary}
      </Text>
      {conflict.predictors.map((p, i) => (
        <Text key={i} wrap="truncate">
          {"  "}• {p.name}: {p.found}
          {p.pid ? ` pid ${p.pid}` : ""}
          {p.lockfile ? ` lock ${p.lockfile}` : ""}
          {p.model ? ` model ${p.model}` : ""}
          {p.command ? ` — ${p.command.slice(0, 50)}` : ""}
        </Text>
      ))}
      {several ? (
        <Text wrap="truncate">
          {position >= 0
            ? `  answering ${selected} only (${position + 1} of ${conflict.keys.length}) · [ ] another key · Esc all`
            : `  ${conflict.key_name ?? "key"}s: ${keyList(conflict.keys)} · [ ] answer one`}
        </Text>
      ) : null}
      <Text wrap="truncate">
        {/* The spaces are written out: a formatter takes a run of spaces in JSX text for one, and Ink prints each. */}
        <Text bold>[w]</Text>
        {" wait  "}
        <Text bold>[s]</Text>
        {" skip  "}
        <Text bold>[f]</Text> force
        {several ? (position >= 0 ? ` ${selected}` : " all") : ""} — {conflict.default_answer} in {seconds}s
        {sending ? `  (sending ${sending}…)` : ""}
      </Text>
    </Box>
  );
}
