import type { Profile } from "../config/schema.ts";
import type { Admission } from "../governor/admission.ts";
import type { Governor } from "../governor/governor.ts";
import type { ReadingHistory } from "../governor/reading-history.ts";
import { startAdmission } from "../scheduler/start-admission.ts";
import type { RunningProfile } from "../services/services.ts";
import { runsInProgress } from "../state/runs.ts";
import { modelCounts } from "../state/served-models.ts";
import { jobPlugin } from "../training/job-plugin.ts";
import { VERSION } from "../version.ts";
import type { BackendParts } from "./daemon-backend.ts";
import type { DaemonStatus, DaemonView } from "./daemon-view.ts";

/** `GET /v1/status`: what the daemon is, runs and knows, from its services and the state database. */
export function daemonStatus(
  parts: BackendParts,
  resolved: RunningProfile,
  cache: DaemonStatus["cache"],
): DaemonStatus {
  const { services, state, disk, startedAt } = parts;
  const { profile, loaded, registry, paths } = resolved;
  const { scheduler, serving } = services;
  return {
    version: VERSION,
    pid: process.pid,
    started_at: new Date(startedAt).toISOString(),
    uptime_s: Math.round((Date.now() - startedAt) / 1000),
    profile: { name: loaded.name, files: loaded.files, loaded_at: new Date(services.loadedAt).toISOString() },
    device: { ...profile.device },
    home: paths.home,
    plugins: registry
      .list()
      .map((p) => ({ kind: p.module.kind, name: p.module.name, version: p.module.version, source: p.source })),
    jobs: Object.entries(profile.jobs).map(([name, job]) => ({
      name,
      strategy: jobPlugin(job).name,
      enabled: job.enabled,
    })),
    state: { schema_version: state.schemaVersion },
    governor: governorStatus(
      services.governor,
      profile.governor,
      startAdmission({ governor: services.governor, disk }),
    ),
    queue: (scheduler?.queued() ?? []).map((entry) => ({
      job: entry.job,
      key: entry.key,
      reason: entry.reason,
      priority: entry.priority,
      queued_at: new Date(entry.queuedAt).toISOString(),
    })),
    running: scheduler?.runningCount() ?? 0,
    runs: runsInProgress(state.db),
    models: {
      ...modelCounts(state.db),
      loaded: serving.pool.loaded().map(({ model, version, provider }) => ({ model, version, provider })),
    },
    inference: { ...serving.pool.runs(), sessions: serving.pool.sessions() },
    disk: disk.status(),
    cache,
    copies: services.copies.pending(),
    conflicts: {
      open: services.desk.list().length,
      clients: services.attendance.clients(),
      asking: services.desk.canAnswer(),
    },
  };
}

/** The governor's decisions and latest readings, with the limits it decides by. */
function governorStatus(
  governor: Governor,
  limits: Profile["governor"],
  admission: Admission,
): DaemonStatus["governor"] {
  const { state } = governor;
  return {
    paused: state.paused,
    reason: state.reason,
    admitting: admission.ok,
    admission: admission.ok ? (admission.note ?? "") : admission.reason,
    sparing_core: state.sparingCore,
    sparing_reason: state.sparingReason,
    threads_per_run: state.threadsPerRun ?? null,
    latency_guard: {
      enabled: state.latency.enabled,
      threads_per_run: state.latency.threadsPerRun ?? null,
      duty: state.latency.duty ?? null,
      reason: state.latency.reason,
      p99_ms: state.latency.p99Ms ?? null,
      target_ms: state.latency.targetMs ?? null,
      idle_p99_ms: state.latency.idleP99Ms ?? null,
      answers: state.latency.answers,
    },
    readings: state.latest ? { ...state.latest } : undefined,
    limits: {
      max_cpu_before: limits.max_cpu_before,
      max_memory_before: limits.max_memory_before,
      pause_cpu: limits.pause_cpu,
      pause_memory: limits.pause_memory,
      resume_cpu: limits.resume_cpu,
      resume_memory: limits.resume_memory,
      pause_predictions_per_s: limits.pause_predictions_per_s,
      spare_core_predictions_per_s: limits.spare_core_predictions_per_s,
      max_temperature: limits.max_temperature,
      max_concurrent_runs: limits.max_concurrent_runs,
      training_class: limits.training_class,
      training_nice: limits.training_nice,
    },
  };
}

/** `GET /v1/history`: the governor's readings over the last hour, averaged into steps, oldest first. */
export function resourceHistory(readings: ReadingHistory): ReturnType<DaemonView["history"]> {
  const { stepMs, spanMs } = readings;
  const points = readings.history(Date.now()).map((step) => ({
    at: new Date(step.at).toISOString(),
    ...(step.cpuPercent !== undefined ? { cpu_percent: step.cpuPercent } : {}),
    ...(step.memoryPercent !== undefined ? { memory_percent: step.memoryPercent } : {}),
    ...(step.gpuPercent !== undefined ? { gpu_percent: step.gpuPercent } : {}),
    ...(step.temperatureC !== undefined ? { temperature_c: step.temperatureC } : {}),
  }));
  return { step_s: stepMs / 1000, span_s: spanMs / 1000, points };
}
