import { renderProfile } from "../config/render-profile.ts";
import type { Profile } from "../config/schema.ts";
import type { ConflictAnswer } from "../conflicts/asker.ts";
import { cancellation } from "../errors.ts";
import { EventJournal } from "../events/event-journal.ts";
import type { DiskSpace } from "../files/disk-space.ts";
import type { Governor } from "../governor/governor.ts";
import { ReadingHistory } from "../governor/reading-history.ts";
import type { PredictionRequest } from "../inference/prediction-input.ts";
import type { TensorValue } from "../inference/tensor-input.ts";
import { readLogTail } from "../log/log-tail.ts";
import { logFileOptions, silentLogger } from "../log/logger.ts";
import { DaemonMetrics } from "../metrics/daemon-metrics.ts";
import { windowHours } from "../offpeak/windows.ts";
import { importModel, type ImportRequest } from "../deploy/model-import.ts";
import { planJobs } from "../scheduler/job-plan.ts";
import { jobPlugin } from "../training/job-plugin.ts";
import type { Logger } from "../plugin-api.ts";
import type { RunningProfile, Services } from "../services/services.ts";
import type { StateDatabase } from "../state/database.ts";
import { getRun, listRuns, runCounts, runSeconds, runsInProgress } from "../state/runs.ts";
import { activeVersions, modelCounts } from "../state/served-models.ts";
import { ignoredInWords, type RunOverrides } from "../training/run-overrides.ts";
import { VERSION } from "../version.ts";
import { warmCache } from "../serving/cache-warm.ts";
import type { CacheWarmed } from "./contract.ts";
import type { DaemonStatus, DaemonView } from "./daemon-view.ts";
import { isLoopback } from "./token.ts";

export interface BackendParts {
  services: Services;
  state: StateDatabase;
  disk: DiskSpace;
  /** The user's home folder: the profile's text shows paths under it with `~`. */
  userHome: string;
  /** When the daemon started, for its uptime. */
  startedAt: number;
  /** For what the API does itself, such as an import; silent when left out. */
  logger?: Logger;
}

type View = DaemonView;

/**
 * What the API reads and asks of a running daemon, answered from its services and the state database.
 * The daemon makes one at start and hands it to the app at each listen.
 */
export class DaemonBackend implements DaemonView {
  private readonly prometheus: DaemonMetrics;
  private apiToken = "";
  /** The run's events, numbered, with the newest api.event_buffer kept for clients that reconnect. */
  private readonly journal: EventJournal;
  /** The last hour of readings, kept here so that a client attached later still sees it. */
  private readonly readings = new ReadingHistory();

  constructor(private readonly parts: BackendParts) {
    const { services, state } = parts;
    this.journal = new EventJournal(() => this.resolved.profile.api.event_buffer, parts.startedAt);
    services.bus.subscribe((event) => {
      this.journal.record(event);
      if (event.type === "governor.reading") this.readings.record(event.data, event.at);
    });
    this.prometheus = new DaemonMetrics({
      status: () => this.status(),
      diskUsage: () => parts.disk.usage(),
      recordedRuns: () => runCounts(state.db),
      runSeconds: (id) => runSeconds(state.db, id, Date.now()),
      activeVersions: () => activeVersions(state.db),
      subscribe: (listener) => services.bus.subscribe(listener),
    });
    services.onPrediction((model, code, seconds) => this.prometheus.observePrediction(model, code, seconds));
  }

  private get resolved(): RunningProfile {
    return this.parts.services.resolved;
  }

  /**
   * The token for the listen about to start: api.token, or else one made at the first listen and kept
   * until the daemon stops. A reload changes it only when the API listens again.
   */
  chooseToken(): string {
    this.apiToken = this.resolved.profile.api.token ?? (this.apiToken || crypto.randomUUID().replaceAll("-", "") + crypto.randomUUID().replaceAll("-", ""));
    return this.apiToken;
  }

  token(): string {
    return this.apiToken;
  }

  status(): DaemonStatus {
    const { services, state, disk, startedAt } = this.parts;
    const { profile, loaded, registry, paths } = this.resolved;
    const { scheduler, serving } = services;
    return {
      version: VERSION,
      pid: process.pid,
      started_at: new Date(startedAt).toISOString(),
      uptime_s: Math.round((Date.now() - startedAt) / 1000),
      profile: { name: loaded.name, files: loaded.files, loaded_at: new Date(services.loadedAt).toISOString() },
      device: { ...profile.device },
      home: paths.home,
      plugins: registry.list().map((p) => ({ kind: p.module.kind, name: p.module.name, version: p.module.version, source: p.source })),
      jobs: Object.entries(profile.jobs).map(([name, job]) => ({
        name,
        strategy: jobPlugin(job).name,
        enabled: job.enabled,
      })),
      state: { schema_version: state.schemaVersion },
      governor: governorStatus(services.governor, profile.governor),
      queue: (scheduler?.queued() ?? []).map((entry) => ({ job: entry.job, key: entry.key, reason: entry.reason, priority: entry.priority, queued_at: new Date(entry.queuedAt).toISOString() })),
      running: scheduler?.runningCount() ?? 0,
      runs: runsInProgress(state.db),
      models: { ...modelCounts(state.db), loaded: serving.pool.loaded().map(({ model, version, provider }) => ({ model, version, provider })) },
      inference: { ...serving.pool.runs(), sessions: serving.pool.sessions() },
      disk: disk.status(),
      cache: this.cacheStats(),
      copies: services.copies.pending(),
      conflicts: {
        open: services.desk.list().length,
        clients: services.attendance.clients(),
        asking: services.desk.canAnswer(),
      },
    };
  }

  history(): ReturnType<View["history"]> {
    const { stepMs, spanMs } = this.readings;
    const points = this.readings.history(Date.now()).map((step) => ({
      at: new Date(step.at).toISOString(),
      cpu_percent: step.cpuPercent,
      memory_percent: step.memoryPercent,
      ...(step.gpuPercent !== undefined ? { gpu_percent: step.gpuPercent } : {}),
      ...(step.temperatureC !== undefined ? { temperature_c: step.temperatureC } : {}),
    }));
    return { step_s: stepMs / 1000, span_s: spanMs / 1000, points };
  }

  jobs(): ReturnType<View["jobs"]> {
    const { profile } = this.resolved;
    const plans = planJobs(profile, this.parts.services.scheduler?.offPeak ?? { windows: [], note: "not learned yet" }, Date.now());
    return Object.entries(profile.jobs).map(([name, job]) => {
      const plan = plans.find((p) => p.job === name);
      return {
        name,
        strategy: jobPlugin(job).name,
        enabled: job.enabled,
        priority: job.priority,
        triggers: job.triggers.map((trigger) => String(trigger.type)),
        last_run: listRuns(this.parts.state.db, { job: name, limit: 1 })[0],
        next: plan?.next,
        why: plan?.why ?? "",
      };
    });
  }

  offPeak(): ReturnType<View["offPeak"]> {
    const offPeak = this.parts.services.scheduler?.offPeak;
    const windows = (offPeak?.windows ?? []).map((w) => w.label);
    if (!offPeak?.activity.points) return { windows, note: offPeak?.note };
    const { activity, note } = offPeak;
    return { windows, note, hour_scores: activity.score, window_hours: windowHours(offPeak.windows) };
  }

  runs(filter: Parameters<View["runs"]>[0]): ReturnType<View["runs"]> {
    return listRuns(this.parts.state.db, filter);
  }

  run(id: string): ReturnType<View["run"]> {
    return getRun(this.parts.state.db, id);
  }

  controlRun(id: string, action: "cancel" | "pause" | "resume"): boolean {
    const control = this.parts.services.activeRuns.get(id);
    if (!control) return false;
    if (action === "cancel") control.abort.abort(cancellation("person", "cancelled by request"));
    else control.personPause(action === "pause");
    this.parts.services.bus.emit(`run.${action === "cancel" ? "cancel_requested" : action === "pause" ? "paused" : "resumed"}`, { run: id, by: "request" });
    return true;
  }

  conflicts(): ReturnType<View["conflicts"]> {
    return this.parts.services.desk.list();
  }

  answerConflict(id: string, action: ConflictAnswer, by: string, key?: string): ReturnType<View["answerConflict"]> {
    const { desk, bus, scheduler } = this.parts.services;
    const answered = desk.answer(id, action, by, key);
    if (answered) {
      const whom = key !== undefined ? { key } : {};
      bus.emit("conflict.answered", { conflict: id, answer: action, by, job: answered.job, ...whom });
      scheduler?.pump();
    }
    return answered;
  }

  async requestRun(job: string, key: string | undefined, overrides: RunOverrides): Promise<void> {
    const scheduler = this.parts.services.scheduler!;
    await scheduler.checkRequest(job, key);
    const ignoring = ignoredInWords(overrides);
    const reason = ignoring ? `manual: API, ${ignoring}` : "manual: API";
    await scheduler.fired(job, reason, key !== undefined ? [key] : undefined, overrides);
  }

  models(): ReturnType<View["models"]> {
    return this.parts.services.serving.store.list();
  }

  model(name: string): ReturnType<View["model"]> {
    const { store } = this.parts.services.serving;
    const versions = store.requireVersions(name);
    const shown = versions.find((v) => v.status === "active") ?? versions[0]!;
    return { model: name, active: store.activeVersion(name), versions, feature_names: shown.feature_names, classes: shown.classes };
  }

  activate(name: string, version: number): ReturnType<View["activate"]> {
    return this.parts.services.serving.activator.activate(name, version, "requested over the API");
  }

  rollback(name: string): ReturnType<View["rollback"]> {
    return this.parts.services.serving.activator.rollback(name, "requested over the API");
  }

  predict(name: string, request: PredictionRequest): ReturnType<View["predict"]> {
    return this.parts.services.serving.service.predict(name, request);
  }

  async importModel(name: string, request: ImportRequest): ReturnType<View["importModel"]> {
    const { services } = this.parts;
    const { profile, paths } = this.resolved;
    const logger = (this.parts.logger ?? silentLogger).child({ model: name });
    return importModel({ profile, paths, store: services.serving.store, deployer: services.deployer, logger }, request);
  }

  async modelSignature(name: string): ReturnType<View["modelSignature"]> {
    const { version, signature } = await this.parts.services.serving.service.signature(name);
    return { version: version.version, signature };
  }

  inferTensors(name: string, given: Record<string, TensorValue>, field: string): ReturnType<View["inferTensors"]> {
    return this.parts.services.serving.service.tensors(name, given, field);
  }

  async ready(): ReturnType<View["ready"]> {
    try {
      this.parts.state.db.query("SELECT 1").get();
    } catch (error) {
      return { ready: false, reason: `the state database does not answer: ${(error as Error).message}` };
    }
    const { store, service } = this.parts.services.serving;
    for (const summary of store.list()) {
      if (summary.active === undefined) continue;
      // Loads the session where it is not loaded yet: ready means the next prediction does not wait for a load.
      const problem = await service.signature(summary.model).then(() => undefined, (error: Error) => error.message);
      if (problem) return { ready: false, reason: `model ${summary.model}: ${problem}` };
    }
    return { ready: true };
  }

  cacheStats(): DaemonStatus["cache"] {
    const { service, cacheType } = this.parts.services.serving;
    return { ...service.cacheStats(), type: cacheType };
  }

  clearCache(model?: string): void {
    this.parts.services.serving.service.clearCache(model);
  }

  async warmCache(model?: string): Promise<CacheWarmed> {
    const { store, service } = this.parts.services.serving;
    return { warmed: await warmCache(store, service, model) };
  }

  follow(...args: Parameters<View["follow"]>): ReturnType<View["follow"]> {
    return this.journal.follow(...args);
  }

  attend(): () => void {
    return this.parts.services.attendance.attend();
  }

  profile(): ReturnType<View["profile"]> {
    const { loaded } = this.resolved;
    return { name: loaded.name, files: loaded.files, text: renderProfile(loaded, true, this.parts.userHome) };
  }

  logs(filter: Parameters<View["logs"]>[0]): ReturnType<View["logs"]> {
    const { profile, paths } = this.resolved;
    return readLogTail(logFileOptions(profile.logging, paths.logs).file, filter);
  }

  metrics(): ReturnType<View["metrics"]> {
    return this.prometheus.render();
  }

  exposed(): boolean {
    return !isLoopback(this.resolved.profile.api.host);
  }

  allowedHosts(): readonly string[] {
    return this.resolved.profile.api.allowed_hosts;
  }

  corsOrigins(): readonly string[] {
    return this.resolved.profile.api.cors_origins;
  }

  maxBodyBytes(): number {
    return this.resolved.profile.api.max_body_kb * 1024;
  }

  requestSeen(): void {
    this.parts.services.usage?.request(Date.now());
  }
}

/** The governor's decisions and latest readings, with the limits it decides by. */
function governorStatus(governor: Governor, limits: Profile["governor"]): DaemonStatus["governor"] {
  const { state } = governor;
  return {
    paused: state.paused,
    reason: state.reason,
    sparing_core: state.sparingCore,
    sparing_reason: state.sparingReason,
    threads_per_run: state.threadsPerRun ?? null,
    readings: state.latest ? { ...state.latest } : undefined,
    limits: {
      max_cpu_before: limits.max_cpu_before, max_memory_before: limits.max_memory_before, pause_cpu: limits.pause_cpu, pause_memory: limits.pause_memory,
      resume_cpu: limits.resume_cpu, resume_memory: limits.resume_memory, pause_predictions_per_s: limits.pause_predictions_per_s,
      spare_core_predictions_per_s: limits.spare_core_predictions_per_s, max_temperature: limits.max_temperature,
      max_concurrent_runs: limits.max_concurrent_runs,
    },
  };
}
