import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createApp } from "./api/app.ts";
import { ConflictDesk } from "./conflicts/conflict-desk.ts";
import { SelfUsageRecorder } from "./offpeak/self-usage.ts";
import type { DaemonStatus, DaemonView } from "./api/daemon-view.ts";
import { cannotListen } from "./api/listen-check.ts";
import { isLoopback } from "./api/token.ts";
import { formatProblem } from "./cli/problems-text.ts";
import { durationMs } from "./config/duration.ts";
import type { ProfileOverrides } from "./config/load-profile.ts";
import type { Profile } from "./config/schema.ts";
import { resolveProfile, type ResolvedProfile } from "./config/validate-profile.ts";
import type { Environment } from "./environment.ts";
import { EdgetrainError, messageOf } from "./errors.ts";
import { EventBus } from "./events/bus.ts";
import { isDiskFull } from "./files/disk-full.ts";
import { DiskSpace, diskFullError, diskIsFull } from "./files/disk-space.ts";
import { writeAtomically } from "./files/write-atomically.ts";
import { Governor } from "./governor/governor.ts";
import { governorLimits } from "./governor/limits.ts";
import { GovernorFeed } from "./governor/feed.ts";
import { acquireLock, type HeldLock } from "./locks/lockfile.ts";
import { removeDeadTrainingLocks } from "./locks/training-locks.ts";
import { LogSink, logFileOptions, type LogLine } from "./log/logger.ts";
import { renderProfile } from "./config/render-profile.ts";
import { readLogTail } from "./log/log-tail.ts";
import type { Logger, ResolvedPaths } from "./plugin-api.ts";
import { systemClock } from "./plugins/context.ts";
import { JobRunner } from "./scheduler/job-runner.ts";
import { Scheduler } from "./scheduler/scheduler.ts";
import { openState, type StateDatabase } from "./state/database.ts";
import { Retention } from "./state/retention.ts";
import { getRun, listRuns, runCounts, runsInProgress } from "./state/runs.ts";
import { activeVersions, modelCounts } from "./state/served-models.ts";
import type { RunControl } from "./training/run-control.ts";
import { VERSION } from "./version.ts";
import { DaemonMetrics } from "./api/metrics.ts";
import { Deployer } from "./deploy/deployer.ts";
import { healActiveVersions } from "./serving/heal-active-versions.ts";
import { createServing, type Serving } from "./serving/serving.ts";
import { modelNameOf } from "./store/model-name.ts";
import { planJobs } from "./scheduler/job-plan.ts";

export interface DaemonOptions {
  profile: string;
  environment: Environment;
  overrides?: ProfileOverrides;
  console?: { write(text: string): void; isTTY: boolean; color: boolean };
  /** Nobody will answer questions (systemd, --headless): conflicts use on_unattended instead of ask. */
  headless?: boolean;
}

/** Where a running daemon can be reached; written to `<home>/daemon.json` for the CLI and TUI. */
export interface DaemonAddress {
  pid: number;
  url: string;
  host: string;
  port: number;
}

type Server = ReturnType<ReturnType<typeof createApp>["listen"]>;

const SHUTDOWN_LIMIT_MS = 5000;
const HISTORY_SWEEP_DELAY_MS = 30_000;

export class Daemon {
  private server?: Server;
  private stopping?: Promise<void>;
  readonly bus = new EventBus();
  private governor!: Governor;
  private feed?: GovernorFeed;
  private scheduler?: Scheduler;
  private retention?: Retention;
  private stopRetention?: () => void;
  private readonly activeRuns = new Map<string, RunControl>();
  readonly desk = new ConflictDesk();
  private selfUsage!: SelfUsageRecorder;
  /** Bearer token for mutating routes: api.token, or one made for this home and readable only by its owner. */
  private apiToken = "";
  private readonly startedAt = Date.now();
  private loadedAt = Date.now();
  private serving!: Serving;
  private readonly metrics = new DaemonMetrics({
    status: () => this.status(),
    runCounts: () => runCounts(this.state.db),
    activeVersions: () => activeVersions(this.state.db),
  });

  private constructor(
    private resolved: ResolvedProfile & { profile: Profile; paths: ResolvedPaths },
    private readonly options: DaemonOptions,
    private readonly lock: HeldLock,
    private readonly logs: LogSink,
    readonly logger: Logger,
    private readonly state: StateDatabase,
    /** Whether the home's disk is full; `demo --once` gives up when it fills. */
    readonly disk: DiskSpace,
  ) {}

  /** Loads and checks everything first: a broken profile or plugin refuses to start rather than half-running. */
  static async start(options: DaemonOptions): Promise<Daemon> {
    const resolved = await resolveProfileOrThrow(options);
    const { profile, paths } = resolved;
    refuseUnsafeBind(profile);
    // Checked before anything is made in the home, so that a refused start leaves nothing behind.
    if (diskIsFull(paths.home)) throw diskFullError(paths.home);
    // Lines reach the event bus once the daemon (and its bus) exist: the TUI follows the log through /v1/events.
    let forward: ((line: LogLine) => void) | undefined;
    let lock: HeldLock | undefined;
    let logs: LogSink | undefined;
    let disk: DiskSpace;
    let state: StateDatabase;
    try {
      for (const dir of [paths.home, paths.data, paths.models, paths.cache, paths.logs, paths.state]) mkdirSync(dir, { recursive: true });
      lock = acquireLock(join(paths.home, "edgetrain.lock"), `home ${paths.home}`);
      logs = new LogSink({ level: profile.logging.level, ...logFileOptions(profile.logging, paths.logs), console: options.console, onLine: (line) => forward?.(line) });
      disk = new DiskSpace({ home: paths.home, logger: logs.logger(), clock: systemClock });
      state = openState(paths.state, disk);
    } catch (error) {
      lock?.release();
      logs?.close();
      throw isDiskFull(error) ? diskFullError(paths.home) : error;
    }
    const logger = logs.logger();
    if (lock.replaced) logger.warn("took over a stale lock left by a process that is gone", { pid: lock.replaced.pid, command: lock.replaced.command });
    const deadTrainingLocks = removeDeadTrainingLocks(join(paths.home, "locks"));
    if (deadTrainingLocks.length) logger.info("removed the training locks of runs that are gone", { locks: deadTrainingLocks });
    if (state.applied.length) logger.info("state database migrated", { file: state.file, versions: state.applied });
    const daemon = new Daemon(resolved, options, lock, logs, logger, state, disk);
    forward = (line) => line.level !== "debug" && daemon.bus.emit("log", line);
    try {
      daemon.watchDisk();
      daemon.startGovernor();
      await daemon.startServing();
      await daemon.startScheduler(true);
      daemon.listen();
      daemon.startHistorySweeps();
    } catch (error) {
      await daemon.stop();
      throw isDiskFull(error) ? diskFullError(paths.home) : error;
    }
    state.recordEvent("daemon.started", { pid: process.pid, version: VERSION, profile: resolved.loaded.name });
    logger.info(`edgetrain ${VERSION} running`, { profile: resolved.loaded.name, home: paths.home, url: daemon.address().url });
    return daemon;
  }

  /** The bearer token, for a TUI started in this process. */
  token(): string {
    return this.apiToken;
  }

  address(): DaemonAddress {
    const host = this.resolved.profile.api.host;
    const port = this.server?.server?.port ?? this.resolved.profile.api.port;
    const urlHost = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
    return { pid: process.pid, url: `http://${urlHost}:${port}`, host, port };
  }

  /** A full disk and its end are events (the TUI, `demo --once`); space back starts the runs that waited. */
  private watchDisk(): void {
    this.disk.onChange((status) => {
      this.bus.emit(status.full ? "disk.full" : "disk.space_back", { ...status });
      if (!status.full) this.scheduler?.pump();
    });
  }

  /** Samples resources every sample_interval; each sample may pause or resume runs and start queued ones. */
  private startGovernor(): void {
    const { profile, paths } = this.resolved;
    this.selfUsage = new SelfUsageRecorder(this.state.db, this.disk);
    this.governor = new Governor(governorLimits(profile.governor), this.bus);
    // Pauses, resumes and cores spared are decisions worth keeping; readings only stream to clients.
    this.bus.subscribe((event) => {
      if (event.type.startsWith("governor.") && event.type !== "governor.reading") this.state.recordEvent(event.type, event.data, event.at);
    });
    this.feed = new GovernorFeed({
      governor: this.governor, hostRoot: this.options.environment.hostRoot, home: paths.home, intervalMs: durationMs(profile.governor.sample_interval),
      clock: systemClock, events: this.bus, usage: this.selfUsage,
      afterSample: () => {
        this.disk.hasRoom();
        this.scheduler?.pump();
      },
    });
    this.feed.start();
  }

  /**
   * The model store, sessions and cache live across profile reloads; a new cache type needs a restart. An
   * active version damaged on disk is replaced before anything is served.
   */
  private async startServing(): Promise<void> {
    const { profile, paths, registry } = this.resolved;
    this.serving = await createServing({
      profile, paths, registry, state: this.state, logger: this.logger, events: this.bus,
      busy: (model) => this.modelInTraining(model),
      onPrediction: (model, cached, seconds) => {
        this.feed?.countPrediction();
        this.metrics.observePrediction(model, cached, seconds);
      },
    });
    await healActiveVersions(this.serving.store, this.serving.activator, this.logger);
  }

  private modelInTraining(model: string): boolean {
    return (this.scheduler?.runningJobs() ?? []).some(({ job, key }) => {
      if (key !== undefined) return modelNameOf(job, key) === model;
      const prefix = modelNameOf(job, undefined);
      return model === prefix || model.startsWith(`${prefix}-`);
    });
  }

  private async startScheduler(recover: boolean): Promise<void> {
    const { profile, paths, registry } = this.resolved;
    const procRoot = join(this.options.environment.hostRoot, "proc");
    const { store, service, activator } = this.serving;
    const serving = (pattern: string, withinMs: number) => service.servedRecently(pattern, withinMs);
    const deployer = new Deployer({ profile, paths, registry, state: this.state, store, activator, logger: this.logger, events: this.bus, procRoot, serving });
    this.retention ??= new Retention(this.state.db, join(paths.home, "runs"), () => this.resolved.profile.history, this.logger);
    const runner = new JobRunner({ profile, paths, registry, state: this.state, logger: this.logger, events: this.bus, governor: this.governor, active: this.activeRuns, deployer, retention: this.retention });
    this.scheduler = new Scheduler({
      profile, paths, registry, state: this.state, runner, governor: this.governor, logger: this.logger, events: this.bus, clock: systemClock,
      attended: !this.options.headless, desk: this.desk, procRoot, serving, disk: this.disk,
      beforeRun: (job, key) => {
        const models = key !== undefined ? [modelNameOf(job, key)] : store.list().filter((m) => m.job === job).map((m) => m.model);
        for (const model of models) void service.pregenerate(model).catch(() => {});
      },
    });
    await this.scheduler.start(recover);
  }

  /** Old run folders, run records and events go soon after start (not in its way) and then once a day. */
  private startHistorySweeps(): void {
    const sweep = () => {
      try {
        this.retention?.sweep();
      } catch (error) {
        this.logger.warn("could not remove old history", { error: messageOf(error) });
      }
    };
    const first = setTimeout(sweep, HISTORY_SWEEP_DELAY_MS);
    const daily = setInterval(sweep, 24 * 3600 * 1000);
    this.stopRetention = () => {
      clearTimeout(first);
      clearInterval(daily);
    };
  }

  /** Re-reads the profile; a profile with errors is rejected and the running one kept. Returns whether it applied. */
  async reload(): Promise<boolean> {
    this.logger.info("reloading profile", { profile: this.options.profile });
    let next: Awaited<ReturnType<typeof resolveProfileOrThrow>>;
    try {
      next = await resolveProfileOrThrow(this.options);
      refuseUnsafeBind(next.profile);
    } catch (error) {
      const problems = error instanceof EdgetrainError ? ((error.details.problems as string[] | undefined) ?? [error.message]) : [messageOf(error)];
      for (const problem of problems) this.logger.error(`reload rejected: ${problem}`);
      this.logger.warn("kept the running profile");
      this.state.recordEvent("profile.reload_rejected", { problems });
      return false;
    }
    const before = this.resolved.profile.api;
    this.resolved = next;
    this.loadedAt = Date.now();
    this.logs.setLevel(next.profile.logging.level);
    this.governor.setLimits(governorLimits(next.profile.governor));
    // Triggers follow the new profile; runs in progress finish under the old one.
    this.scheduler?.stopWatching();
    await this.startScheduler(false);
    if (before.host !== next.profile.api.host || before.port !== next.profile.api.port) {
      this.server?.stop();
      this.listen();
    }
    this.state.recordEvent("profile.reloaded", { profile: next.loaded.name });
    this.logger.info("profile reloaded", { profile: next.loaded.name, url: this.address().url });
    return true;
  }

  /** Disposes services in reverse order of start. Never throws; safe to call twice. */
  stop(reason = "stop requested"): Promise<void> {
    this.stopping ??= (async () => {
      this.logger.info("stopping", { reason });
      const steps: Array<[string, () => unknown]> = [
        ["scheduler and runs", () => this.scheduler?.stop()],
        ["governor", () => this.feed?.dispose()],
        ["history sweeps", () => this.stopRetention?.()],
        ["api", () => this.server?.stop(true)],
        ["prediction cache", () => this.serving?.cache.flush?.()],
        ["model sessions", () => this.serving?.pool.close()],
        ["address file", () => rmSync(join(this.resolved.paths.home, "daemon.json"), { force: true })],
        ["token file", () => rmSync(join(this.resolved.paths.home, "api.token"), { force: true })],
        ["disk space watch", () => this.disk.dispose()],
        ["state", () => (this.state.recordEvent("daemon.stopped", { reason }), this.state.close())],
        ["home lock", () => this.lock.release()],
      ];
      for (const [name, dispose] of steps) {
        const began = performance.now();
        try {
          await dispose();
        } catch (error) {
          this.logger.warn(`could not stop ${name} cleanly`, { error: messageOf(error) });
        }
        const took = performance.now() - began;
        if (took > 500) this.logger.warn(`stopping ${name} took ${Math.round(took)} ms`);
      }
      this.logger.info("stopped");
      this.logs.close();
    })();
    return this.stopping;
  }

  /**
   * SIGTERM/SIGINT stop within SHUTDOWN_LIMIT_MS. SIGHUP reloads the profile, except for a daemon started on
   * a terminal: there it is the terminal closing, and a daemon that lived on would hold its port and locks
   * with nobody left to press Ctrl-C.
   */
  handleSignals(options: { onTerminal: boolean }, exit: (code: number) => void = (code) => process.exit(code)): void {
    const shutdown = (signal: string) => {
      const force = setTimeout(() => exit(1), SHUTDOWN_LIMIT_MS);
      force.unref?.();
      void this.stop(`signal ${signal}`).then(() => exit(0));
    };
    process.once("SIGTERM", () => shutdown("SIGTERM"));
    process.once("SIGINT", () => shutdown("SIGINT"));
    if (options.onTerminal) process.once("SIGHUP", () => shutdown("SIGHUP (the terminal closed)"));
    else process.on("SIGHUP", () => void this.reload());
  }

  private listen(): void {
    const { host, port, token } = this.resolved.profile.api;
    this.apiToken = token ?? (this.apiToken || crypto.randomUUID().replaceAll("-", "") + crypto.randomUUID().replaceAll("-", ""));
    // Local clients (the CLI, the TUI) read it from the home; mode 0600 keeps other users out.
    writeAtomically(join(this.resolved.paths.home, "api.token"), this.apiToken + "\n", 0o600);
    try {
      this.server = createApp(this.view()).listen({ hostname: host, port });
    } catch (error) {
      throw cannotListen(host, port, error);
    }
    writeAtomically(join(this.resolved.paths.home, "daemon.json"), JSON.stringify(this.address()) + "\n");
  }

  private view(): DaemonView {
    return {
      status: () => this.status(),
      jobs: () => {
        const plans = planJobs(this.resolved.profile, this.scheduler?.offPeak ?? { windows: [], note: "not learned yet" }, Date.now());
        return Object.entries(this.resolved.profile.jobs).map(([name, job]) => {
          const plan = plans.find((p) => p.job === name);
          return {
            name,
            strategy: job.strategy,
            enabled: job.enabled,
            priority: job.priority,
            triggers: job.triggers.map((trigger) => String(trigger.type)),
            last_run: listRuns(this.state.db, { job: name, limit: 1 })[0],
            next: plan?.next,
            why: plan?.why ?? "",
          };
        });
      },
      offPeak: () => ({ windows: (this.scheduler?.offPeak?.windows ?? []).map((w) => w.label), note: this.scheduler?.offPeak?.note }),
      runs: (filter) => listRuns(this.state.db, filter),
      run: (id) => getRun(this.state.db, id),
      conflicts: () => this.desk.list(),
      answerConflict: (id, action, by) => {
        const answered = this.desk.answer(id, action, by);
        if (answered) {
          this.bus.emit("conflict.answered", { conflict: id, answer: action, by });
          this.scheduler?.pump();
        }
        return answered;
      },
      requestRun: async (job, key, force) => {
        await this.scheduler!.checkRequest(job, key);
        await this.scheduler!.fired(job, force ? "manual: API, forced" : "manual: API", key !== undefined ? [key] : undefined, force);
      },
      token: () => this.apiToken,
      controlRun: (id, action) => {
        const control = this.activeRuns.get(id);
        if (!control) return false;
        if (action === "cancel") control.abort.abort("cancelled by request");
        else control.personPause(action === "pause");
        this.bus.emit(`run.${action === "cancel" ? "cancel_requested" : action === "pause" ? "paused" : "resumed"}`, { run: id, by: "request" });
        return true;
      },
      exposed: () => !isLoopback(this.resolved.profile.api.host),
      allowedHosts: () => this.resolved.profile.api.allowed_hosts,
      maxBodyBytes: () => this.resolved.profile.api.max_body_kb * 1024,
      requestSeen: () => this.selfUsage.request(Date.now()),
      models: () => this.serving.store.list(),
      model: (name) => {
        const versions = this.serving.store.requireVersions(name);
        const shown = versions.find((v) => v.status === "active") ?? versions[0]!;
        return { model: name, active: this.serving.store.activeVersion(name), versions, feature_names: shown.feature_names, classes: shown.classes };
      },
      activate: (name, version) => this.serving.activator.activate(name, version, "requested over the API"),
      rollback: (name) => this.serving.activator.rollback(name, "requested over the API"),
      predict: (name, request) => this.serving.service.predict(name, request),
      cacheStats: () => ({ ...this.serving.service.cacheStats(), type: this.serving.cacheType }),
      clearCache: (model) => this.serving.service.clearCache(model),
      subscribe: (listener) => this.bus.subscribe(listener),
      metrics: () => this.metrics.render(),
      profile: () => ({ name: this.resolved.loaded.name, files: this.resolved.loaded.files, text: renderProfile(this.resolved.loaded, true, this.options.environment.userHome) }),
      logs: (filter) => readLogTail(logFileOptions(this.resolved.profile.logging, this.resolved.paths.logs).file, filter),
    };
  }

  status(): DaemonStatus {
    const { profile, loaded, registry, paths } = this.resolved;
    return {
      version: VERSION,
      pid: process.pid,
      started_at: new Date(this.startedAt).toISOString(),
      uptime_s: Math.round((Date.now() - this.startedAt) / 1000),
      profile: { name: loaded.name, files: loaded.files, loaded_at: new Date(this.loadedAt).toISOString() },
      device: { ...profile.device },
      home: paths.home,
      plugins: registry.list().map((p) => ({ kind: p.module.kind, name: p.module.name, version: p.module.version, source: p.source })),
      jobs: Object.entries(profile.jobs).map(([name, job]) => ({ name, strategy: job.strategy, enabled: job.enabled })),
      state: { schema_version: this.state.schemaVersion },
      governor: { ...this.governorState() },
      queue: (this.scheduler?.queued() ?? []).map((entry) => ({ job: entry.job, key: entry.key, reason: entry.reason, priority: entry.priority, queued_at: new Date(entry.queuedAt).toISOString() })),
      running: this.scheduler?.runningCount() ?? 0,
      runs: runsInProgress(this.state.db),
      models: {
        ...modelCounts(this.state.db),
        loaded: this.serving.pool.loaded().map(({ model, version, provider }) => ({ model, version, provider })),
      },
      inference: { ...this.serving.pool.runs(), sessions: this.serving.pool.sessions() },
      disk: this.disk.status(),
      cache: { ...this.serving.service.cacheStats(), type: this.serving.cacheType },
    };
  }

  private governorState() {
    const state = this.governor.state;
    const { governor } = this.resolved.profile;
    const limits = {
      max_cpu_before: governor.max_cpu_before, max_memory_before: governor.max_memory_before, pause_cpu: governor.pause_cpu, pause_memory: governor.pause_memory,
      resume_cpu: governor.resume_cpu, resume_memory: governor.resume_memory, pause_predictions_per_s: governor.pause_predictions_per_s,
      spare_core_predictions_per_s: governor.spare_core_predictions_per_s, max_temperature: governor.max_temperature,
      max_concurrent_runs: governor.max_concurrent_runs,
    };
    return {
      paused: state.paused,
      reason: state.reason,
      sparing_core: state.sparingCore,
      sparing_reason: state.sparingReason,
      threads_per_run: state.threadsPerRun ?? null,
      readings: state.latest ? { ...state.latest } : undefined,
      limits,
    };
  }
}

async function resolveProfileOrThrow(options: DaemonOptions) {
  const resolved = await resolveProfile(options.profile, options.environment, options.overrides);
  if (!resolved.profile || !resolved.paths) {
    const errors = resolved.problems.filter((problem) => problem.severity === "error");
    const pluginProblem = errors.length > 0 && errors.every((problem) => resolved.registry.problems.includes(problem));
    throw new EdgetrainError(pluginProblem ? "plugin_load_failed" : "profile_invalid", `profile ${resolved.loaded.name} has ${errors.length} problem(s); nothing was started`, {
      details: { problems: errors.map(formatProblem) },
      hint: "run `edgetrain validate` to see them all",
    });
  }
  return resolved as ResolvedProfile & { profile: Profile; paths: ResolvedPaths };
}

function refuseUnsafeBind(profile: Profile): void {
  if (!isLoopback(profile.api.host) && !profile.api.token) {
    throw new EdgetrainError("unsafe_bind", `refusing to listen on ${profile.api.host}: a non-loopback address needs api.token`, {
      hint: "set api.token: ${EDGETRAIN_TOKEN} in the profile and export EDGETRAIN_TOKEN, or listen on 127.0.0.1",
    });
  }
}
