import { Box, Text } from "ink";
import { ago, metricsShort, ProgressBar, percent, Sparkline } from "../components/gauges.tsx";
import { HourHistory, hourHistoryLines } from "../components/hour-history.tsx";
import { PendingCopies, pendingCopiesLines } from "../components/pending-copies.tsx";
import { useColor } from "../components/theme.tsx";
import type { DaemonSnapshot } from "../use-daemon.ts";

type GuardStatus = NonNullable<DaemonSnapshot["status"]>["governor"]["latency_guard"];
const ms = (value: number | null) => (value === null ? "-" : `${value.toFixed(1)} ms`);

/** The latency guard's hold on training, or while it holds nothing, the serving thread's p99 against its target. */
function LatencyGuard({ guard }: { guard: GuardStatus }) {
  const color = useColor();
  if (guard.threads_per_run !== null) {
    const hold =
      guard.threads_per_run === 0
        ? "runs paused"
        : guard.duty !== null
          ? `1 thread ${Math.round(guard.duty * 100)} % of the time`
          : `${guard.threads_per_run} thread(s) per run`;
    const figures = `p99 ${ms(guard.p99_ms)}, target ${ms(guard.target_ms)}`;
    return <Text color={color("magenta")}>{` · latency guard: ${hold} (${figures})`}</Text>;
  }
  if (!guard.enabled || guard.p99_ms === null) return null;
  const target = guard.target_ms === null ? "" : ` (target ${ms(guard.target_ms)})`;
  return <Text dimColor>{` · p99 ${ms(guard.p99_ms)}${target}`}</Text>;
}

/** Device, readings with sparklines and thresholds, governor, queue, running runs, models, cache. */
export function Overview({ snapshot, width, height }: { snapshot: DaemonSnapshot; width: number; height: number }) {
  const color = useColor();
  const { status, readings } = snapshot;
  if (!status) return <Text>waiting for the daemon…</Text>;
  const latest = readings.at(-1);
  const { models, cache } = status;
  const limits = status.governor.limits as Record<string, number>;
  const spark = Math.max(10, width - 40);
  const taken = 11 + (status.disk.full ? 1 : 0) + hourHistoryLines(snapshot.history) + pendingCopiesLines(status);
  const rows = Math.max(1, height - taken);
  const line = (label: string, value: number | undefined, series: Array<number | undefined>, limit?: number) => (
    <Box>
      <Text>
        {label.padEnd(5)}
        {percent(value)}{" "}
      </Text>
      <Sparkline values={series.map((v) => v ?? 0)} width={spark} limit={limit} />
      <Text dimColor>{limit !== undefined ? `  pause ≥${limit}` : ""}</Text>
    </Box>
  );
  const now = Date.now();
  return (
    <Box flexDirection="column">
      {line(
        "CPU",
        latest?.cpu,
        readings.map((r) => r.cpu),
        limits.pause_cpu,
      )}
      {line(
        "MEM",
        latest?.memory,
        readings.map((r) => r.memory),
        limits.pause_memory,
      )}
      {latest?.gpu !== undefined
        ? line(
            "GPU",
            latest.gpu,
            readings.map((r) => r.gpu),
          )
        : null}
      {latest?.temperature !== undefined ? (
        <Box>
          <Text>
            {"TEMP "}
            {`${latest.temperature.toFixed(0)}°C`.padStart(4)}{" "}
          </Text>
          <Sparkline values={readings.map((r) => r.temperature ?? 0)} width={spark} limit={limits.max_temperature} />
          <Text dimColor>{`  pause ≥${limits.max_temperature}°C`}</Text>
        </Box>
      ) : null}
      <HourHistory history={snapshot.history} width={spark} />
      <Text wrap="truncate">
        {latest?.temperature === undefined ? "TEMP - · " : ""}runs start below CPU {limits.max_cpu_before}% MEM{" "}
        {limits.max_memory_before}% {latest?.temperature === undefined ? `(max ${limits.max_temperature}°C)` : ""}
      </Text>
      <Text>
        Governor:{" "}
        {status.governor.paused ? (
          <Text color={color("yellow")}>pausing runs — {status.governor.reason}</Text>
        ) : !status.governor.admitting ? (
          <Text color={color("yellow")}>holding new runs back — {status.governor.admission}</Text>
        ) : (
          <Text color={color("green")}>
            admitting{status.governor.admission ? ` (${status.governor.admission})` : ""}
          </Text>
        )}
        {status.governor.sparing_core ? (
          <Text
            color={color("cyan")}
          >{` · a core left to predictions: ${status.governor.threads_per_run} thread(s) per run`}</Text>
        ) : null}
        <LatencyGuard guard={status.governor.latency_guard} />
      </Text>
      {status.disk.full ? (
        <Text color={color("red")} wrap="truncate">
          Disk: {status.disk.message} since {status.disk.since?.slice(11, 19)} UTC — no new runs start; predictions go
          on
        </Text>
      ) : null}
      <Text bold>
        Running ({status.runs.length}) · queue {status.queue.length}
      </Text>
      {status.runs.slice(0, Math.max(1, Math.floor(rows / 2))).map((run) => {
        const progress = snapshot.progress[run.id];
        const fraction = progress ? progress.done / Math.max(1, progress.total) : (run.progress ?? 0);
        const elapsed = run.started_at ? now - run.started_at : 0;
        const eta = fraction > 0.02 ? Math.round(((elapsed / fraction) * (1 - fraction)) / 1000) : undefined;
        const state = run.status === "running" ? "" : `${run.status} `;
        return (
          <Box key={run.id}>
            <Text>{`  ${run.job}${run.key ? `/${run.key}` : ""}`.padEnd(26).slice(0, 26)} </Text>
            <ProgressBar fraction={fraction} width={16} />
            <Text>
              {" "}
              {state}ETA {eta === undefined ? "-" : `${eta}s`} · heartbeat{" "}
              {ago(snapshot.heartbeats[run.id] ?? progress?.at)}
            </Text>
          </Box>
        );
      })}
      {status.queue.slice(0, 3).map((entry) => (
        <Text key={`${entry.job}/${entry.key}`} dimColor>
          {"  "}queued {entry.job}
          {entry.key ? `/${entry.key}` : ""}: {entry.reason.slice(0, width - 30)}
        </Text>
      ))}
      <PendingCopies status={status} width={width} />
      <Text wrap="truncate">
        Next:{" "}
        {snapshot.jobs
          .filter((job) => job.next)
          .sort((a, b) => a.next!.localeCompare(b.next!))
          .slice(0, 2)
          .map((job) => `${job.name} at ${job.next!.slice(5, 16).replace("T", " ")} UTC`)
          .join(" · ") || "nothing scheduled; triggers fire on data, models and by hand"}
      </Text>
      <Text bold>
        Models: {models.active} active of {models.count} · {models.loaded.length} loaded · cache {cache.type}:{" "}
        {cache.entries} entries, hit rate {(cache.hit_rate * 100).toFixed(0)}%
      </Text>
      {snapshot.models
        .slice(
          0,
          Math.max(
            1,
            rows -
              Math.min(status.runs.length, Math.floor(rows / 2)) -
              Math.min(status.queue.length, 3) -
              (latest?.gpu !== undefined ? 1 : 0),
          ),
        )
        .map((model) => (
          <Text key={model.model}>
            {"  "}
            {model.model.padEnd(28).slice(0, 28)} v{model.active ?? "-"} {metricsShort(model.metrics, 2)}
          </Text>
        ))}
    </Box>
  );
}
