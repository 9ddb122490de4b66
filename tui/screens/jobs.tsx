import { Box, Text } from "ink";
import type { DaemonSnapshot } from "../use-daemon.ts";

/** Jobs with triggers and their last run; n runs the selected job now. */
export function Jobs({ snapshot, selected, message }: { snapshot: DaemonSnapshot; selected: number; message?: string }) {
  return (
    <Box flexDirection="column">
      <Text bold>{"  JOB               STRATEGY        PRIO  TRIGGERS                    LAST RUN"}</Text>
      {snapshot.jobs.map((job, i) => (
        <Text key={job.name} inverse={i === selected} wrap="truncate">
          {i === selected ? "› " : "  "}
          {job.name.padEnd(17).slice(0, 17)} {job.strategy.padEnd(15).slice(0, 15)} {String(job.priority).padEnd(5)} {job.triggers.join(", ").padEnd(27).slice(0, 27)} {job.last_run ? `${job.last_run.status} ${job.last_run.key ?? ""} ${new Date(job.last_run.created_at).toISOString().slice(11, 19)}` : "-"}
          {job.enabled ? "" : " (disabled)"}
        </Text>
      ))}
      {snapshot.jobs.length === 0 ? <Text dimColor>the profile has no jobs</Text> : null}
      <Text dimColor>{message ?? "↑↓ job · n run now (queued in the daemon, governor and conflicts still apply)"}</Text>
    </Box>
  );
}
