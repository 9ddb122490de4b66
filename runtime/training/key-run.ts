import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type ScoreKeyRequest, scoreKey } from "../batch-scoring/score-job.ts";
import { scoreMetrics } from "../batch-scoring/score-summary.ts";
import type { Profile } from "../config/schema.ts";
import { crashPoint } from "../deploy/crash-points.ts";
import type { Deployment } from "../deploy/deployment.ts";
import { cancellation, cancellationOf, EdgetrainError, messageOf } from "../errors.ts";
import { acquireLock } from "../locks/lockfile.ts";
import type { DataTable, JobInfo, Logger, TrainResult } from "../plugin-api.ts";
import { KIND_WORDS } from "../plugins/instantiate.ts";
import type { RegisteredPlugin } from "../plugins/registry.ts";
import { recordDeployPending } from "../state/deploys.ts";
import { modelNameOf } from "../store/model-name.ts";
import { jobPlugin } from "./job-plugin.ts";
import type { JobRunnerParts } from "./job-runner.ts";
import { RunControl } from "./run-control.ts";
import { maxRuntimeOf, startRunDeadline } from "./run-deadline.ts";
import { warnOverrides } from "./run-overrides.ts";
import { RunRecorder } from "./run-recorder.ts";
import type { RunOutcome, RunRequest } from "./run-request.ts";
import { strategyRunSpec } from "./strategy-run-spec.ts";
import { runStrategyInThread, type ThreadBridge } from "./strategy-thread.ts";

/** What one run of a key reaches of its job runner. */
export interface KeyRunContext {
  parts: JobRunnerParts;
  /** Runs in progress, by run id. */
  active: Map<string, RunControl>;
  lastSuccess(job: string, key: string | undefined): { artifact?: string } | undefined;
  jobInfo(name: string): JobInfo;
}

/**
 * A deploy that breaks leaves the run succeeded and the serving version untouched; the deployer answers it as
 * failed, and it is recorded with the run. Only a stop cuts it short without an outcome (it resumes at the
 * next start).
 */
async function deployRun(
  ctx: KeyRunContext,
  request: RunRequest,
  job: Profile["jobs"][string],
  key: string | undefined,
  run: string,
  result: TrainResult,
  heldOut: DataTable | undefined,
  signal: AbortSignal,
  logger: Logger,
): Promise<Deployment | undefined> {
  if (!ctx.parts.deployer) return undefined;
  try {
    const jobInfo = ctx.jobInfo(request.job);
    const { ignoreConflicts } = request;
    const deploy = { job: request.job, key, spec: job, run, result, heldOut, logger, signal, jobInfo, ignoreConflicts };
    return await ctx.parts.deployer.deploy(deploy);
  } catch (error) {
    logger.warn("the deploy of the model was cut short", { error: messageOf(error) });
    return undefined;
  }
}

/** A score job's run: its summary is the run's record, and goes out as `score.summary` when it scored rows. */
async function scoreRun(
  ctx: KeyRunContext,
  request: ScoreKeyRequest,
  run: string,
  recorder: RunRecorder,
  bridge: ThreadBridge,
) {
  const { profile, paths, state, store, events } = ctx.parts;
  const { job, key } = request;
  if (!store) throw new EdgetrainError("internal", `job ${job}: no model store to score with`);
  const summary = await scoreKey(request, { profile, paths, state, store }, bridge);
  recorder.scored(summary);
  const metrics = scoreMetrics(summary);
  bridge.logger.info("run succeeded", metrics);
  if (summary.files.length > 0) events?.emit("score.summary", { run, job, key, ...summary });
  return { run, job, key, status: "succeeded", metrics, score: summary } satisfies RunOutcome;
}

/**
 * One run of one key of a job: records it, trains (or scores) in a thread of its own under its deadline, the
 * governor and the training lock, then deploys a trained model.
 */
export async function runKey(
  ctx: KeyRunContext,
  request: RunRequest,
  job: Profile["jobs"][string],
  key: string | undefined,
): Promise<RunOutcome> {
  const { profile, paths, registry, state, governor } = ctx.parts;
  const { kind, name } = jobPlugin(job);
  const plugin = registry.get(kind, name);
  const unknown = `job ${request.job}: unknown ${KIND_WORDS[kind].one} "${name}"`;
  if (!plugin) throw new EdgetrainError("plugin_invalid", unknown);
  const id = RunRecorder.newId();
  const runDir = join(paths.home, "runs", id);
  mkdirSync(runDir, { recursive: true });
  const { trigger } = request;
  const recorder = new RunRecorder(state, { id, job: request.job, key, strategy: name, trigger, runDir });
  const logger = ctx.parts.logger.child({ job: request.job, ...(key !== undefined ? { key } : {}), run: id });
  // The model's serving version, whichever job made it: warm starts continue from it, and it is the new one's parent.
  const start = ctx.parts.deployer?.startingPoint(request.job, key);
  const control = new RunControl();
  const { abort, pause, threads } = control;
  ctx.active.set(id, control);
  const onOuterAbort = () => abort.abort(request.signal ? cancellationOf(request.signal) : undefined);
  request.signal?.addEventListener("abort", onOuterAbort, { once: true });
  const maxRuntime = maxRuntimeOf(job, plugin.module);
  const clearDeadline = startRunDeadline(
    maxRuntime,
    (remainingMs) => {
      logger.warn("run nears its max_runtime", {
        max_runtime: maxRuntime,
        remaining_s: Math.round(remainingMs / 1000),
      });
      const near = { run: id, job: request.job, key, max_runtime: String(maxRuntime), remaining_ms: remainingMs };
      ctx.parts.events?.emit("run.max_runtime_near", near);
    },
    () => abort.abort(cancellation("max_runtime", `ran past max_runtime ${maxRuntime}`)),
  );
  // Predictors started with `edgetrain hold --respect-training` wait while this lock is held.
  mkdirSync(join(paths.home, "locks"), { recursive: true });
  const trainingLock = acquireLock(join(paths.home, "locks", `training-${id}.lock`), `training run ${id}`);
  warnOverrides(logger, request.job, key, request);
  const governed = request.ignoreGovernor ? undefined : governor;
  // A run past the governor still slows the daemon's answers: the latency guard must not learn them as idle.
  const releaseUngoverned = request.ignoreGovernor ? governor?.trainingUngoverned(id) : undefined;
  const release = governed?.register(id, {
    setPaused: (paused) => control.governorPause(paused),
    setThreads: (allowed) => threads.set(allowed),
    threadsInUse: () => threads.inUse,
    onMaxPause: () =>
      abort.abort(cancellation("max_pause", `paused longer than governor.max_pause ${profile.governor.max_pause}`)),
  });
  const unwatchPause = pause.subscribe((paused) => recorder.paused(paused));
  const progress = recorder.progress(request.progress, ctx.parts.events);
  logger.info("run started", { [kind]: name, trigger: request.trigger });
  const started = { run: id, job: request.job, key, strategy: name, trigger, max_runtime: String(maxRuntime) };
  ctx.parts.events?.emit("run.started", started);
  const bridge = { logger, events: recorder.events(ctx.parts.events), progress, pause, threads, signal: abort.signal };
  try {
    if (kind === "score") {
      const scoring = { job: request.job, spec: job, key, runDir, plugin: plugin as RegisteredPlugin<"score"> };
      return await scoreRun(ctx, scoring, id, recorder, bridge);
    }
    // The run's heavy work (CSV parsing, binning, training, ONNX export) stays off the thread that answers predictions.
    const { result, heldOut } = await runStrategyInThread(
      strategyRunSpec({
        profile,
        paths,
        stateFile: state.file,
        run: id,
        plugin: { name, source: plugin.source },
        job: request.job,
        spec: job,
        key,
        runDir,
        previousArtifact: start?.artifact ?? ctx.lastSuccess(request.job, key)?.artifact,
        host: ctx.parts.host,
        wantHeldOut: ctx.parts.deployer !== undefined,
      }),
      bridge,
    );
    const ran = { ...result, metadata: { ...result.metadata, parent: start?.version ?? null } };
    // The deploy is pending from the moment the run counts as succeeded: a crash after this resumes it at the next
    // start.
    state.db.transaction(() => {
      recorder.succeeded(ran);
      if (ctx.parts.deployer)
        recordDeployPending(state.db, {
          run: id,
          job: request.job,
          key,
          model: modelNameOf(request.job, key, job.model),
          result: ran,
        });
    })();
    crashPoint("after-run-recorded");
    logger.info("run succeeded", { ...result.metrics });
    const deployment = await deployRun(ctx, request, job, key, id, ran, heldOut, abort.signal, logger);
    if (deployment) recorder.deployed(deployment);
    return {
      run: id,
      job: request.job,
      key,
      status: "succeeded",
      metrics: result.metrics,
      artifact: result.artifact,
      deployment,
    };
  } catch (error) {
    const cancelled = abort.signal.aborted ? cancellationOf(abort.signal) : undefined;
    recorder.failed(
      cancelled
        ? new EdgetrainError(cancelled.code, `cancelled: ${cancelled.message}`, { details: cancelled.details })
        : error,
      cancelled !== undefined,
    );
    // A cancel is asked for (a person, a shutdown, max_pause): worth a warning, not an error.
    if (cancelled) logger.warn("run cancelled", { reason: cancelled.message, cause: cancelled.details.reason });
    else logger.error("run failed", { error: messageOf(error) });
    if (cancelled)
      return {
        run: id,
        job: request.job,
        key,
        status: "cancelled",
        error: cancelled.message,
        cancel_reason: cancelled.details.reason,
      };
    return { run: id, job: request.job, key, status: "failed", error: messageOf(error) };
  } finally {
    await recorder.written();
    try {
      ctx.parts.retention?.afterRun(request.job, key);
    } catch (error) {
      logger.warn("could not remove old run folders", { error: messageOf(error) });
    }
    clearDeadline();
    unwatchPause();
    release?.();
    releaseUngoverned?.();
    trainingLock.release();
    ctx.active.delete(id);
    request.signal?.removeEventListener("abort", onOuterAbort);
  }
}
