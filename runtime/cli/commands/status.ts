import type { DaemonStatus } from "../../api/contract.ts";
import { formatBytes } from "../../files/disk-usage.ts";
import type { Command } from "../command.ts";
import { daemonClient, requireHomeDaemon } from "../daemon-client.ts";
import { homeOptions } from "../home.ts";
import { writeJson } from "../json-answer.ts";

/** `conflicts: 1 open · 1 client following`, or that a headless daemon has nobody to ask. */
function conflictLine(conflicts: DaemonStatus["conflicts"]): string {
  const clients = conflicts.clients ? ` · ${conflicts.clients} client(s) following` : "";
  const asking = conflicts.asking ? "" : " · nobody to ask (on_unattended applies)";
  return `conflicts: ${conflicts.open} open${clients}${asking}`;
}

/** copy-to-dir copies waiting for their predictors, each with its file and why. */
function copyLines(copies: DaemonStatus["copies"]): string[] {
  if (!copies.length) return [];
  const why = (copy: DaemonStatus["copies"][number]) => (copy.reason ? ` (${copy.reason})` : "");
  const what = (copy: DaemonStatus["copies"][number]) =>
    copy.restore ? `rollback of ${copy.model} to version ${copy.version}` : `${copy.model} version ${copy.version}`;
  return [
    `pending copies (${copies.length}), retried when their predictors go quiet:`,
    ...copies.map((copy) => `  ${what(copy)} → ${copy.target} since ${copy.since}${why(copy)}`),
  ];
}

/** What the scheduler does with queued runs now: the same admission it starts them by. */
function governorLine(governor: DaemonStatus["governor"]): string {
  if (governor.paused) return `governor: pausing runs — ${governor.reason}`;
  if (!governor.admitting) return `governor: holding new runs back — ${governor.admission}`;
  return `governor: admitting runs${governor.admission ? ` — ${governor.admission}` : ""}`;
}

export const statusCommand: Command = {
  name: "status",
  summary: "one screen: readings, governor, queue, runs in progress, latest runs",
  description:
    "Asks the daemon that runs on the home what it is doing: readings, governor, disk, queue, runs in progress and " +
    "the latest runs.",
  options: {
    json: { type: "boolean", description: "print the daemon's status and latest_runs as JSON" },
    ...homeOptions,
  },
  examples: ["edgetrain status", "edgetrain status --json --home /data/edgetrain"],
  async run(args, io) {
    const client = daemonClient(args, io);
    const status = await client.answer(client.api.v1.status.get());
    requireHomeDaemon(client, status);
    const { runs } = await client.answer(client.api.v1.runs.get({ query: { limit: 8 } }));
    if (args.values.json) {
      writeJson(io, { ...status, latest_runs: runs });
      return 0;
    }
    const r = status.governor.readings as
      | {
          cpuPercent?: number;
          ownCpuPercent?: number;
          memoryPercent?: number;
          temperatureC?: number;
          gpuPercent?: number;
          gpuUnreadable?: boolean;
        }
      | undefined;
    const guard = status.governor.latency_guard;
    const ms = (value: number | null) => (value === null ? "-" : `${value.toFixed(2)} ms`);
    const target =
      guard.target_ms === null ? "no target until the idle p99 is learned" : `target ${ms(guard.target_ms)}`;
    const guarding =
      guard.threads_per_run !== null
        ? ` · latency guard: ${guard.reason}`
        : guard.enabled && guard.p99_ms !== null
          ? ` · serving delay p99 ${ms(guard.p99_ms)} (${target})`
          : "";
    const temperature = r?.temperatureC !== undefined ? ` · ${r.temperatureC.toFixed(0)} °C` : "";
    const gpu =
      r?.gpuPercent !== undefined ? ` · gpu ${r.gpuPercent.toFixed(0)} %` : r?.gpuUnreadable ? " · gpu unknown" : "";
    // A figure /proc could not give is unknown, never 0.
    const figure = (value?: number) => (value === undefined ? "unknown" : `${value.toFixed(0)} %`);
    const own = r?.ownCpuPercent !== undefined ? ` (edgetrain ${figure(r.ownCpuPercent)})` : "";
    const readings = r
      ? `cpu ${figure(r.cpuPercent)}${own} · memory ${figure(r.memoryPercent)}${temperature}${gpu}`
      : "no reading yet";
    const { governor, disk } = status;
    const sparing = governor.sparing_core
      ? ` · leaving a core to predictions: runs train on ${governor.threads_per_run} thread(s) — ` +
        `${governor.sparing_reason}`
      : "";
    const free = disk.free_bytes === null ? "free space unknown" : `${formatBytes(disk.free_bytes)} free`;
    const queued = status.queue.map((q) => `${q.job}${q.key ? `/${q.key}` : ""} (${q.reason})`).join(", ");
    const runLine = (run: (typeof runs)[number]) => {
      const progress = run.progress !== null && run.status === "running" ? ` ${Math.round(run.progress * 100)}%` : "";
      const metrics = () =>
        Object.entries(run.metrics ?? {})
          .map(([k, v]) => `${k} ${v.toFixed(3)}`)
          .join(", ");
      const what = run.message ?? run.error ?? metrics();
      return `  ${run.id}  ${run.job}${run.key ? `/${run.key}` : ""}  ${run.status}${progress}  ${what}`;
    };
    const lines = [
      `edgetrain ${status.version} on ${status.device.name} (${status.device.kind}) · profile ${status.profile.name} ` +
        `· up ${status.uptime_s}s · ${client.url}`,
      readings,
      governorLine(governor) + sparing + guarding,
      disk.full
        ? `disk: ${disk.message} since ${disk.since} — no new runs start; predictions go on; ` +
          `${disk.waiting_writes} write(s) wait for space`
        : `disk: ${free} on the home`,
      `queue: ${status.queue.length ? queued : "empty"} · running: ${status.running}`,
      conflictLine(status.conflicts),
      ...copyLines(status.copies),
      "latest runs:",
      ...runs.map(runLine),
    ];
    io.stdout.write(`${lines.join("\n")}\n`);
    return 0;
  },
};
