import { Box, Text } from "ink";
import { EmptyList } from "../components/filter-line.tsx";
import { OffPeakWeek } from "../components/off-peak-week.tsx";
import type { DaemonSnapshot } from "../use-daemon.ts";

/** A time as `MM-DD hh:mm`; `next` may also be words ("on request"), shown as they are. */
const when = (text?: string) => {
  const ms = text ? Date.parse(text) : Number.NaN;
  return Number.isNaN(ms) ? (text ?? "-") : new Date(ms).toISOString().slice(5, 16).replace("T", " ");
};

interface JobsProps {
  snapshot: DaemonSnapshot;
  selected: number;
  message?: string;
  width: number;
  height: number;
  /** The list filter, when one is set. */
  filter?: string;
}

/** Jobs with triggers, off-peak windows, last and next run and why; n runs the selected job now. */
export function Jobs(props: JobsProps) {
  const { snapshot, selected, message, width, height, filter } = props;
  const windows = snapshot.offpeak?.windows.length
    ? `off-peak windows: ${snapshot.offpeak.windows.join(", ")}`
    : `off-peak: ${snapshot.offpeak?.note ?? "no windows learned"}`;
  const job = snapshot.jobs[selected];
  return (
    <Box flexDirection="column">
      <Text dimColor wrap="truncate">
        {windows}
      </Text>
      <Text bold wrap="truncate">
        {"  JOB               STRATEGY        TRIGGERS                LAST RUN              NEXT (UTC)"}
      </Text>
      {snapshot.jobs.map((row, i) => (
        <Text key={row.name} inverse={i === selected} wrap="truncate">
          {i === selected ? "› " : "  "}
          {row.name.padEnd(17).slice(0, 17)} {row.strategy.padEnd(15).slice(0, 15)}{" "}
          {row.triggers.join(", ").padEnd(23).slice(0, 23)}{" "}
          {(row.last_run
            ? `${row.last_run.status} ${when(new Date(row.last_run.created_at).toISOString())}`
            : "-"
          ).padEnd(21)}{" "}
          {when(row.next)}
          {row.enabled ? "" : " (disabled)"}
        </Text>
      ))}
      {snapshot.jobs.length === 0 ? <EmptyList filter={filter} none="the profile has no jobs" /> : null}
      {job ? <Text wrap="wrap">{`why: ${job.why}`.slice(0, width * 2)}</Text> : null}
      <Text dimColor>{message ?? "↑↓ job · n run now (queued in the daemon, governor and conflicts still apply)"}</Text>
      {/* The week takes nine lines: shown when the jobs leave room for it. */}
      {height >= snapshot.jobs.length + 15 ? <OffPeakWeek offpeak={snapshot.offpeak} /> : null}
    </Box>
  );
}
