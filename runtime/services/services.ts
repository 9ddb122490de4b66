import { join } from "node:path";
import { durationMs } from "../config/duration.ts";
import type { Profile } from "../config/schema.ts";
import type { ResolvedProfile } from "../config/validate-profile.ts";
import { Attendance } from "../conflicts/attendance.ts";
import { ConflictDesk } from "../conflicts/conflict-desk.ts";
import type { ServingActivity } from "../conflicts/predictors.ts";
import { Deployer } from "../deploy/deployer.ts";
import { FileCopies } from "../deploy/file-copies.ts";
import type { Environment } from "../environment.ts";
import { EventBus } from "../events/bus.ts";
import type { DiskSpace } from "../files/disk-space.ts";
import { GovernorFeed } from "../governor/feed.ts";
import { Governor } from "../governor/governor.ts";
import { governorLimits } from "../governor/limits.ts";
import { warnOfMemoryReserve } from "../governor/memory-reserve.ts";
import { SelfUsageRecorder } from "../offpeak/self-usage.ts";
import type { Clock, Logger, ResolvedPaths } from "../plugin-api.ts";
import { systemClock } from "../plugins/context.ts";
import { Scheduler, type SchedulerParts } from "../scheduler/scheduler.ts";
import { healActiveVersions } from "../serving/heal-active-versions.ts";
import type { PredictionListener } from "../serving/prediction.ts";
import { createServing, type Serving, servingLimits } from "../serving/serving.ts";
import type { StateDatabase } from "../state/database.ts";
import { Retention } from "../state/retention.ts";
import { modelNameOf, trainsModel } from "../store/model-name.ts";
import { JobRunner } from "../training/job-runner.ts";
import type { RunControl } from "../training/run-control.ts";
import type { Disposals } from "./disposals.ts";
import { startMemoryRelease } from "./idle-release.ts";
import { retryCopies, startHistorySweeps } from "./periodic-tasks.ts";

/** A profile that passed validation, with its paths. */
export type RunningProfile = ResolvedProfile & { profile: Profile; paths: ResolvedPaths };

export interface ServiceParts {
  resolved: RunningProfile;
  environment: Environment;
  state: StateDatabase;
  logger: Logger;
  /** The daemon's event stream; a one-shot command gets one nobody listens to. */
  bus?: EventBus;
  /** Whether the home's disk has room: the daemon watches it; without it runs start regardless. */
  disk?: DiskSpace;
  /** false: the governor neither admits nor pauses runs (`edgetrain train --force`). Default true. */
  governed?: boolean;
  /**
   * Someone answers the scheduler's conflict questions over the API (the desk). false (a headless daemon):
   * they are put only while a client follows the conflict events, and on_unattended applies otherwise.
   */
  attended?: boolean;
  /** Times the quiet after which freed memory goes back to the system (tests); the system's clock by default. */
  idleClock?: Clock;
}

/** The services over one home. The daemon also starts them: it feeds the governor and schedules runs. */
export class Services {
  /** The profile in force; a reload replaces it. */
  resolved: RunningProfile;
  loadedAt = Date.now();
  readonly bus: EventBus;
  readonly governor: Governor;
  /** The clients following the conflict events: whom a headless daemon's desk asks. */
  readonly attendance = new Attendance();
  readonly desk: ConflictDesk;
  /** Runs in progress by id, kept across reloads: what cancel, pause and resume act on. */
  readonly activeRuns = new Map<string, RunControl>();
  readonly retention: Retention;
  /** Model files placed for file-reading predictors: pending ones retried, rolled-back ones put back. */
  readonly copies: FileCopies;
  serving!: Serving;
  deployer!: Deployer;
  runner!: JobRunner;
  /** Only a started daemon schedules; `edgetrain train` hands its job to the runner at once. */
  scheduler?: Scheduler;
  /** edgetrain's own activity (load samples, API requests), from which off-peak windows are learned. */
  usage?: SelfUsageRecorder;
  private feed?: GovernorFeed;
  private readonly predictionListeners = new Set<PredictionListener>();
  private readonly procRoot: string;
  private readonly servingActivity: ServingActivity = (pattern, withinMs) =>
    this.serving.service.servedRecently(pattern, withinMs);

  /**
   * Builds the governor, serving (store, sessions, cache), deployer and runner from the profile, for the
   * daemon and `edgetrain train` alike. What is opened is added to `stack`, which disposes it in reverse.
   */
  static async build(parts: ServiceParts, stack: Disposals): Promise<Services> {
    const services = new Services(parts, stack);
    await services.openServing();
    services.wireRuns();
    services.warnOfMemoryReserve();
    return services;
  }

  private constructor(
    private readonly parts: ServiceParts,
    private readonly stack: Disposals,
  ) {
    this.resolved = parts.resolved;
    this.desk = new ConflictDesk(parts.attended === false ? this.attendance : undefined);
    this.bus = parts.bus ?? new EventBus();
    this.governor = new Governor(governorLimits(parts.resolved.profile.governor), this.bus);
    this.procRoot = join(parts.environment.hostRoot, "proc");
    this.retention = new Retention(
      parts.state.db,
      join(parts.resolved.paths.home, "runs"),
      () => this.resolved.profile.history,
      parts.logger,
    );
    const { state, logger } = parts;
    const home = parts.resolved.paths.home;
    const profile = () => this.resolved.profile;
    const { procRoot, servingActivity: serving } = this;
    const versions = () => this.serving.store;
    this.copies = new FileCopies({ state, profile, home, logger, events: this.bus, procRoot, serving, versions });
    // An activation or rollback by any road (the API, the TUI, a deploy, the fleet) keeps the folders on it.
    stack.add("file copies", this.copies.follow(this.bus));
  }

  /** The model store, sessions and cache live across profile reloads; a new cache type needs a restart. */
  private async openServing(): Promise<void> {
    const { profile, paths, registry } = this.resolved;
    const { state, logger } = this.parts;
    this.serving = await createServing({
      profile,
      paths,
      registry,
      state,
      logger,
      events: this.bus,
      busy: (model) => this.modelInTraining(model),
      onPrediction: (model, code, seconds, outputs) => {
        if (code === "ok") this.feed?.countPrediction();
        for (const listener of this.predictionListeners) listener(model, code, seconds, outputs);
      },
    });
    const { pool, cache } = this.serving;
    this.stack.add("model sessions", () => pool.close());
    this.stack.add("prediction cache", () => cache.flush?.());
  }

  /**
   * The daemon's part: disk and governor feeds, damaged active versions replaced before anything is
   * served, the scheduler (which first finishes what a crash cut short), and the history sweeps.
   */
  async start(): Promise<void> {
    const { state, disk, logger, environment } = this.parts;
    // A full disk and its end are events (the TUI, `demo --once`); space back starts the runs that waited.
    disk?.onChange((status) => {
      this.bus.emit(status.full ? "disk.full" : "disk.space_back", { ...status });
      if (!status.full) this.scheduler?.pump();
    });
    const usage = (this.usage = new SelfUsageRecorder(state.db, state.writes));
    // Pauses, resumes and cores spared are decisions worth keeping; readings only stream to clients.
    const unrecord = this.bus.subscribe((event) => {
      if (event.type.startsWith("governor.") && event.type !== "governor.reading")
        state.recordEvent(event.type, event.data, event.at);
    });
    const { profile, paths } = this.resolved;
    const feed = (this.feed = new GovernorFeed({
      governor: this.governor,
      hostRoot: environment.hostRoot,
      home: paths.home,
      intervalMs: durationMs(profile.governor.sample_interval),
      toolPath: environment.searchPath,
      clock: systemClock,
      logger,
      events: this.bus,
      usage,
      afterSample: () => {
        disk?.hasRoom();
        this.scheduler?.pump();
      },
      latencyWindowMs: () => {
        const guard = this.resolved.profile.governor.latency_guard;
        return guard.enabled ? durationMs(guard.window) : 0;
      },
    }));
    feed.start();
    this.stack.add("governor", () => {
      feed.dispose();
      unrecord();
    });
    await healActiveVersions(this.serving.store, this.serving.activator, logger);
    this.stack.add("scheduler and runs", () => this.scheduler?.stop());
    this.scheduler = new Scheduler(this.schedulerParts());
    await this.scheduler.start(true);
    this.stack.add(
      "history sweeps",
      startHistorySweeps(() => this.retention.sweep(), logger),
    );
    const interval = () => durationMs(this.resolved.profile.conflicts.check_interval);
    this.stack.add(
      "pending file copies",
      retryCopies(() => this.copies.retry(), interval, logger),
    );
    const onPrediction = (listener: () => void) => this.onPrediction(listener);
    const idleClock = this.parts.idleClock ?? systemClock;
    this.stack.add("memory release", startMemoryRelease({ bus: this.bus, onPrediction, logger, clock: idleClock }));
  }

  /**
   * A new profile: the governor's limits apply now; triggers follow it; runs in progress finish under the old
   * one; what waits in the queue starts under the new one.
   */
  async reload(next: RunningProfile): Promise<void> {
    this.resolved = next;
    this.loadedAt = Date.now();
    this.governor.setLimits(governorLimits(next.profile.governor));
    this.serving.service.setLimits(servingLimits(next.profile));
    this.wireRuns();
    this.warnOfMemoryReserve();
    await this.scheduler?.reload(this.schedulerParts());
  }

  private warnOfMemoryReserve(): void {
    const { environment, logger } = this.parts;
    warnOfMemoryReserve(this.resolved.profile.governor.memory_reserve_mb, environment.hostRoot, logger);
  }

  /** Each predict request, with its outcome and how long it took; returns the unsubscribe. */
  onPrediction(listener: PredictionListener): () => void {
    this.predictionListeners.add(listener);
    return () => this.predictionListeners.delete(listener);
  }

  /** Whether a run in progress trains the model: the cache keeps its answers longer meanwhile. */
  modelInTraining(model: string): boolean {
    const { jobs } = this.resolved.profile;
    return (this.scheduler?.runningJobs() ?? []).some(({ job, key }) => trainsModel(job, jobs[job]?.model, key, model));
  }

  private wireRuns(): void {
    const { profile, paths, registry } = this.resolved;
    const { state, logger, governed } = this.parts;
    const { store, activator } = this.serving;
    const events = this.bus;
    const { procRoot, servingActivity: serving, copies } = this;
    const parts = { profile, paths, registry, state, store, activator, logger, events, procRoot, serving, copies };
    this.deployer = new Deployer(parts);
    this.runner = new JobRunner({
      profile,
      paths,
      registry,
      state,
      logger,
      events,
      governor: governed === false ? undefined : this.governor,
      active: this.activeRuns,
      deployer: this.deployer,
      retention: this.retention,
      store,
      host: { root: this.parts.environment.hostRoot, toolPath: this.parts.environment.searchPath },
    });
  }

  private schedulerParts(): SchedulerParts {
    const { profile, paths, registry } = this.resolved;
    const { state, logger, disk } = this.parts;
    const { store, service } = this.serving;
    return {
      profile,
      paths,
      registry,
      state,
      runner: this.runner,
      governor: this.governor,
      logger,
      events: this.bus,
      clock: systemClock,
      asker: this.desk,
      procRoot: this.procRoot,
      serving: this.servingActivity,
      disk,
      beforeRun: (job, key) => {
        const template = profile.jobs[job]?.model;
        const models =
          key !== undefined
            ? [modelNameOf(job, key, template)]
            : store
                .list()
                .map((m) => m.model)
                .filter((m) => trainsModel(job, template, undefined, m));
        for (const model of models) void service.pregenerate(model).catch(() => {});
      },
    };
  }
}
