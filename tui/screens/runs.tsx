import { Box, Text } from "ink";
import type { RunDetail } from "../../runtime/api/contract.ts";
import { EmptyList } from "../components/filter-line.tsx";
import { metricsShort, ProgressBar } from "../components/gauges.tsx";
import { useColor } from "../components/theme.tsx";
import type { DaemonSnapshot } from "../use-daemon.ts";

const STATUS_COLOR: Record<string, string> = {
  succeeded: "green",
  failed: "red",
  cancelled: "yellow",
  running: "cyan",
  paused: "yellow",
  stalled: "red",
  interrupted: "yellow",
};

interface RunsProps {
  snapshot: DaemonSnapshot;
  selected: number;
  detail?: RunDetail;
  height: number;
  width: number;
  /** The list filter, when one is set. */
  filter?: string;
}

/** Run history; Enter opens a run's detail: progress, checkpoints, metrics, stalls and its live log tail. */
export function Runs(props: RunsProps) {
  const { snapshot, selected, detail, height, width, filter } = props;
  const color = useColor();
  if (detail) {
    const d = (detail.details ?? {}) as {
      checkpoints?: unknown[];
      log_tail?: string[];
      stalls?: number;
      progress?: { done: number; total: number; message?: string };
      deployment?: { model: string; version: number; status: string; message?: string };
    };
    const progress = snapshot.progress[detail.id] ?? d.progress;
    return (
      <Box flexDirection="column">
        <Text bold>
          Run {detail.id} · {detail.job}
          {detail.key ? `/${detail.key}` : ""} ·{" "}
          <Text color={color(STATUS_COLOR[detail.status] ?? "white")}>{detail.status}</Text>
        </Text>
        <Text>Trigger: {detail.trigger}</Text>
        {progress ? (
          <Box>
            <ProgressBar fraction={progress.done / Math.max(1, progress.total)} />
            <Text> {progress.message ?? ""}</Text>
          </Box>
        ) : null}
        <Text>
          Metrics:{" "}
          {Object.entries(detail.metrics ?? {})
            .map(([k, v]) => `${k} ${v.toFixed(4)}`)
            .join(", ") || "-"}
        </Text>
        <Text>
          Checkpoints: {d.checkpoints?.length ?? 0} · stalls: {d.stalls ?? 0}
          {detail.error ? ` · error: ${detail.error}` : ""}
        </Text>
        {d.deployment ? (
          <Text>
            Model: {d.deployment.model} version {d.deployment.version} {d.deployment.status}
            {d.deployment.message ? ` — ${d.deployment.message}` : ""}
          </Text>
        ) : null}
        <Text bold>Log tail</Text>
        {(d.log_tail ?? []).slice(-Math.max(1, height - 9)).map((line, i) => (
          <Text key={i} wrap="truncate">
            {line.slice(0, width)}
          </Text>
        ))}
        <Text dimColor>Esc back</Text>
      </Box>
    );
  }
  const rows = snapshot.runs.slice(0, Math.max(1, height - 2));
  return (
    <Box flexDirection="column">
      <Text bold>{"  STATUS     JOB/KEY                  TOOK    TRIGGER / OUTCOME"}</Text>
      {rows.map((run, i) => {
        const took =
          run.started_at && run.ended_at
            ? `${((run.ended_at - run.started_at) / 1000).toFixed(1)}s`
            : run.progress !== null
              ? `${Math.round(run.progress * 100)}%`
              : "-";
        const outcome = run.error ?? metricsShort(run.metrics);
        return (
          <Text key={run.id} inverse={i === selected} wrap="truncate">
            {i === selected ? "› " : "  "}
            <Text color={color(STATUS_COLOR[run.status] ?? "white")}>{run.status.padEnd(10)}</Text>{" "}
            {`${run.job}${run.key ? `/${run.key}` : ""}`.padEnd(24).slice(0, 24)} {took.padEnd(7)}{" "}
            {run.trigger.slice(0, 24)} {outcome}
          </Text>
        );
      })}
      {rows.length === 0 ? <EmptyList filter={filter} none="no runs yet" /> : null}
    </Box>
  );
}
