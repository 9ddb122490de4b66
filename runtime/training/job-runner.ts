import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { durationMs } from "../config/duration.ts";
import type { Profile } from "../config/schema.ts";
import { type CancelReason, cancellation, cancellationOf, EdgetrainError, messageOf, notFound } from "../errors.ts";
import type { Governor } from "../governor/governor.ts";
import type { Events } from "../events/bus.ts";
import type { DataTable, DeployState, JobInfo, Logger, ProgressReporter, ResolvedPaths, TrainResult } from "../plugin-api.ts";
import { acquireLock } from "../locks/lockfile.ts";
import type { StateDatabase } from "../state/database.ts";
import { recordDeployPending } from "../state/deploys.ts";
import { latestSuccess } from "../state/runs.ts";
import { modelNameOf } from "../store/model-name.ts";
import { RunControl } from "./run-control.ts";
import { maxRuntimeOf, startRunDeadline } from "./run-deadline.ts";
import { RunRecorder } from "./run-recorder.ts";
import { runStrategyInThread, type ThreadBridge } from "./strategy-thread.ts";
import { trainingPriority } from "../os/thread-priority.ts";
import { jobKeys } from "./job-keys.ts";
import { crashPoint } from "../deploy/crash-points.ts";
import type { Deployer } from "../deploy/deployer.ts";
import type { Deployment } from "../deploy/deployment.ts";
import { resumeDeploys } from "../deploy/deploy-resume.ts";
import type { Retention } from "../state/retention.ts";
import { scoreActiveModel } from "../scoring/score-active-model.ts";
import { type RunOverrides, warnOverrides } from "./run-overrides.ts";
import { scoreKey, type ScoreKeyRequest } from "../batch-scoring/score-job.ts";
import { scoreMetrics, type ScoreSummary } from "../batch-scoring/score-summary.ts";
import type { ModelStore } from "../store/model-store.ts";
import { KIND_WORDS } from "../plugins/instantiate.ts";
import type { PluginRegistry, RegisteredPlugin } from "../plugins/registry.ts";
import { jobPlugin } from "./job-plugin.ts";

export interface JobRunnerParts {
  profile: Profile;
  paths: ResolvedPaths;
  registry: PluginRegistry;
  state: StateDatabase;
  logger: Logger;
  events?: Events;
  /** Without one (a run by hand with --force, a test), runs are neither admitted nor paused. */
  governor?: Governor;
  /** Shared across profile reloads, so runs started under the old profile can still be cancelled. */
  active?: Map<string, RunControl>;
  /** Takes a successful run's model into the store and through the job's deploy steps; without one the artifact stays in the run folder. */
  deployer?: Deployer;
  /** Removes the job's old run folders after each run (`history.run_folders`). */
  retention?: Retention;
  /** Where runs read the machine's free memory and GPU (`/` and the PATH by default). */
  host?: { root: string; toolPath?: string };
  /** The model store, whose active versions score jobs run; without one a score job cannot run. */
  store?: ModelStore;
}

export interface RunOutcome {
  run: string;
  job: string;
  key?: string;
  status: "succeeded" | "failed" | "cancelled";
  metrics?: Record<string, number>;
  artifact?: string;
  error?: string;
  /** Why a cancelled run was cancelled: the scheduler queues a max_pause one again. */
  cancel_reason?: CancelReason;
  /** What became of the model: its version, and whether it serves. */
  deployment?: Deployment;
  /** A score run's summary: rows, files, the class histogram or value statistics. */
  score?: ScoreSummary;
}

export interface RunRequest extends RunOverrides {
  job: string;
  /** Only this key; otherwise every key of the job, one run each. */
  key?: string;
  /** In words, for the record: `manual: edgetrain train`, `cron 0 2 * * 0`. */
  trigger: string;
  signal?: AbortSignal;
  progress?: ProgressReporter;
}

/** Runs one job for its keys, one after the other: strategy, data, checkpoint rules and run record. */
export class JobRunner {
  /** Runs in progress, by run id: what `cancel`, `pause` and `resume` act on. */
  readonly active: Map<string, RunControl>;

  constructor(private readonly parts: JobRunnerParts) {
    this.active = parts.active ?? new Map();
  }

  jobNamed(name: string) {
    const job = this.parts.profile.jobs[name];
    if (!job) {
      const known = Object.keys(this.parts.profile.jobs);
      throw notFound("job", name, known, {
        message: `no job "${name}" in the profile`,
        hint: known.length ? `jobs: ${known.join(", ")}` : "the profile has no jobs section",
      });
    }
    return job;
  }

  async keysOf(name: string): Promise<Array<string | undefined>> {
    return jobKeys(this.jobNamed(name), this.parts.paths.data);
  }

  /** The job's keys; not_found, with the closest name, for a job the profile lacks or a key the job does not have. */
  async requireKey(name: string, key: string | undefined): Promise<Array<string | undefined>> {
    const keys = await this.keysOf(name);
    if (key === undefined || keys.includes(key)) return keys;
    const named = keys.filter((k): k is string => k !== undefined);
    throw notFound("key", key, named, {
      message: `job ${name} has no key "${key}"`,
      details: { job: name, key },
      hint: `keys: ${named.slice(0, 20).join(", ") + (named.length > 20 ? `, … ${named.length - 20} more` : "") || "(none: the job has no key scope)"}`,
    });
  }

  async run(request: RunRequest): Promise<RunOutcome[]> {
    const job = this.jobNamed(request.job);
    const keys = await this.requireKey(request.job, request.key);
    const outcomes: RunOutcome[] = [];
    for (const key of request.key !== undefined ? [request.key] : keys) {
      if (request.signal?.aborted) break;
      outcomes.push(await this.runKey(request, job, key));
    }
    return outcomes;
  }

  /** The latest successful run of job+key: when it ended, the artifact warm starts continue from, and how far its deploy got. */
  lastSuccess(job: string, key: string | undefined): { at: number; artifact?: string; used?: string[]; deploy?: DeployState } | undefined {
    const row = latestSuccess(this.parts.state.db, job, key);
    if (!row) return undefined;
    const details = JSON.parse(row.details) as { artifact?: string; data?: { files?: string[]; testFiles?: string[] } };
    return { at: row.ended_at, artifact: details.artifact, used: [...(details.data?.files ?? []), ...(details.data?.testFiles ?? [])], ...(row.deploy ? { deploy: row.deploy } : {}) };
  }

  /** The version of job+key's model that serves now. */
  activeVersion(job: string, key: string | undefined): number | undefined {
    return this.parts.deployer?.activeVersion(job, key);
  }

  /** What a job's triggers and deploy steps are told of it (their context's `job`). */
  jobInfo(name: string): JobInfo {
    return {
      name,
      data: this.parts.profile.jobs[name]?.data as Record<string, unknown> | undefined,
      keys: () => this.keysOf(name),
      lastSuccess: (key) => this.lastSuccess(name, key),
      activeVersion: (key) => this.activeVersion(name, key),
      scoreLatest: (key) => this.scoreActive(name, key),
    };
  }

  /** Deploys a crash left pending or in progress go through their job's steps again; at start, before any run. */
  async resumeDeploys(): Promise<void> {
    const { deployer, profile, paths, state, logger } = this.parts;
    if (deployer) await resumeDeploys({ deployer, profile, paths, state, logger, jobInfo: (name) => this.jobInfo(name) });
  }

  /** The active model of job+key scored on the newest data it has not trained on (accuracy-below). */
  scoreActive(job: string, key: string | undefined) {
    return scoreActiveModel(this.jobNamed(job), key, this.lastSuccess(job, key), this.parts.profile, this.parts.paths);
  }

  /** A deploy that breaks leaves the run succeeded and the serving version untouched; the failure is recorded. */
  private async deploy(request: RunRequest, job: Profile["jobs"][string], key: string | undefined, run: string, result: TrainResult, heldOut: DataTable | undefined, signal: AbortSignal, logger: Logger): Promise<Deployment | undefined> {
    if (!this.parts.deployer) return undefined;
    try {
      const jobInfo = this.jobInfo(request.job);
      const { ignoreConflicts } = request;
      const deploy = { job: request.job, key, spec: job, run, result, heldOut, logger, signal, jobInfo, ignoreConflicts };
      return await this.parts.deployer.deploy(deploy);
    } catch (error) {
      logger.error("could not deploy the model", { error: messageOf(error) });
      return undefined;
    }
  }

  /** A score job's run: its summary is the run's record, and goes out as `score.summary` when it scored rows. */
  private async score(request: ScoreKeyRequest, run: string, recorder: RunRecorder, bridge: ThreadBridge) {
    const { profile, paths, state, store, events } = this.parts;
    const { job, key } = request;
    if (!store) throw new EdgetrainError("internal", `job ${job}: no model store to score with`);
    const summary = await scoreKey(request, { profile, paths, state, store }, bridge);
    recorder.scored(summary);
    const metrics = scoreMetrics(summary);
    bridge.logger.info("run succeeded", metrics);
    if (summary.files.length > 0) events?.emit("score.summary", { run, job, key, ...summary });
    return { run, job, key, status: "succeeded", metrics, score: summary } satisfies RunOutcome;
  }

  private async runKey(request: RunRequest, job: Profile["jobs"][string], key: string | undefined): Promise<RunOutcome> {
    const { profile, paths, registry, state, governor } = this.parts;
    const { kind, name } = jobPlugin(job);
    const plugin = registry.get(kind, name);
    const unknown = `job ${request.job}: unknown ${KIND_WORDS[kind].one} "${name}"`;
    if (!plugin) throw new EdgetrainError("plugin_invalid", unknown);
    const id = RunRecorder.newId();
    const runDir = join(paths.home, "runs", id);
    mkdirSync(runDir, { recursive: true });
    const { trigger } = request;
    const recorder = new RunRecorder(state, { id, job: request.job, key, strategy: name, trigger, runDir });
    const logger = this.parts.logger.child({ job: request.job, ...(key !== undefined ? { key } : {}), run: id });
    // The model's serving version, whichever job made it: warm starts continue from it, and it is the new one's parent.
    const start = this.parts.deployer?.startingPoint(request.job, key);
    const control = new RunControl();
    const { abort, pause, threads } = control;
    this.active.set(id, control);
    const onOuterAbort = () => abort.abort(request.signal ? cancellationOf(request.signal) : undefined);
    request.signal?.addEventListener("abort", onOuterAbort, { once: true });
    const maxRuntime = maxRuntimeOf(job, plugin.module);
    const clearDeadline = startRunDeadline(
      maxRuntime,
      (remainingMs) => {
        logger.warn("run nears its max_runtime", { max_runtime: maxRuntime, remaining_s: Math.round(remainingMs / 1000) });
        const near = { run: id, job: request.job, key, max_runtime: String(maxRuntime), remaining_ms: remainingMs };
        this.parts.events?.emit("run.max_runtime_near", near);
      },
      () => abort.abort(cancellation("max_runtime", `ran past max_runtime ${maxRuntime}`)),
    );
    // Predictors started with `edgetrain hold --respect-training` wait while this lock is held.
    mkdirSync(join(paths.home, "locks"), { recursive: true });
    const trainingLock = acquireLock(join(paths.home, "locks", `training-${id}.lock`), `training run ${id}`);
    warnOverrides(logger, request.job, key, request);
    const governed = request.ignoreGovernor ? undefined : governor;
    const release = governed?.register(id, { setPaused: (paused) => control.governorPause(paused), setThreads: (allowed) => threads.set(allowed), onMaxPause: () => abort.abort(cancellation("max_pause", `paused longer than governor.max_pause ${profile.governor.max_pause}`)) });
    const unwatchPause = pause.subscribe((paused) => recorder.paused(paused));
    const progress = recorder.progress(request.progress, this.parts.events);
    logger.info("run started", { [kind]: name, trigger: request.trigger });
    const started = { run: id, job: request.job, key, strategy: name, trigger, max_runtime: String(maxRuntime) };
    this.parts.events?.emit("run.started", started);
    const bridge = { logger, events: recorder.events(this.parts.events), progress, pause, threads, signal: abort.signal };
    try {
      if (kind === "score") {
        const scoring = { job: request.job, spec: job, key, runDir, plugin: plugin as RegisteredPlugin<"score"> };
        return await this.score(scoring, id, recorder, bridge);
      }
      // The run's heavy work (CSV parsing, binning, training, ONNX export) stays off the thread that answers predictions.
      const { result, heldOut } = await runStrategyInThread(
        {
          plugin: { name, source: plugin.source },
          options: job.options,
          defaults: profile.defaults.strategies,
          paths,
          stateFile: state.file,
          storeName: `strategy/${name}`,
          job: request.job,
          key,
          runDir,
          data: job.data,
          previousArtifact: start?.artifact ?? this.lastSuccess(request.job, key)?.artifact,
          workers: profile.governor.workers,
          memoryLimitMb: profile.governor.memory_limit_mb,
          capacity: {
            memoryReserveMb: profile.governor.memory_reserve_mb,
            gpuMemoryFraction: profile.governor.gpu_memory_fraction,
            maxPauseMs: durationMs(profile.governor.max_pause),
            hostRoot: this.parts.host?.root ?? "/",
            toolPath: this.parts.host?.toolPath,
          },
          priority: trainingPriority(profile.governor),
          wantHeldOut: this.parts.deployer !== undefined,
          now: Date.now(),
        },
        bridge,
      );
      const ran = { ...result, metadata: { ...result.metadata, parent: start?.version ?? null } };
      // The deploy is pending from the moment the run counts as succeeded: a crash after this resumes it at the next start.
      state.db.transaction(() => {
        recorder.succeeded(ran);
        if (this.parts.deployer) recordDeployPending(state.db, { run: id, job: request.job, key, model: modelNameOf(request.job, key, job.model), result: ran });
      })();
      crashPoint("after-run-recorded");
      logger.info("run succeeded", { ...result.metrics });
      const deployment = await this.deploy(request, job, key, id, ran, heldOut, abort.signal, logger);
      if (deployment) recorder.deployed(deployment);
      return { run: id, job: request.job, key, status: "succeeded", metrics: result.metrics, artifact: result.artifact, deployment };
    } catch (error) {
      const cancelled = abort.signal.aborted ? cancellationOf(abort.signal) : undefined;
      recorder.failed(cancelled ? new EdgetrainError(cancelled.code, `cancelled: ${cancelled.message}`, { details: cancelled.details }) : error, cancelled !== undefined);
      // A cancel is asked for (a person, a shutdown, max_pause): worth a warning, not an error.
      if (cancelled) logger.warn("run cancelled", { reason: cancelled.message, cause: cancelled.details.reason });
      else logger.error("run failed", { error: messageOf(error) });
      if (cancelled) return { run: id, job: request.job, key, status: "cancelled", error: cancelled.message, cancel_reason: cancelled.details.reason };
      return { run: id, job: request.job, key, status: "failed", error: messageOf(error) };
    } finally {
      await recorder.written();
      try {
        this.parts.retention?.afterRun(request.job, key);
      } catch (error) {
        logger.warn("could not remove old run folders", { error: messageOf(error) });
      }
      clearDeadline();
      unwatchPause();
      release?.();
      trainingLock.release();
      this.active.delete(id);
      request.signal?.removeEventListener("abort", onOuterAbort);
    }
  }
}
