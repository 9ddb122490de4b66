import { existsSync, readFileSync } from "node:fs";
import type { Job, Profile } from "../config/schema.ts";
import { ConflictClearance, describePredictors, UnattendedAsker } from "../conflicts/clearance.ts";
import type { ServingActivity } from "../conflicts/predictors.ts";
import { messageOf } from "../errors.ts";
import { readModelDescription } from "../inference/model-metadata.ts";
import { ScoringThread } from "../scoring/scoring-thread.ts";
import type { Events } from "../events/bus.ts";
import type { DataTable, DeployCandidate, DeployHooks, JobInfo, Logger, PredictorClearance, ResolvedPaths, TrainResult } from "../plugin-api.ts";
import { systemClock } from "../plugins/context.ts";
import { instantiate } from "../plugins/instantiate.ts";
import type { PluginRegistry } from "../plugins/registry.ts";
import type { ModelActivator } from "../serving/model-activator.ts";
import { scoreVersion } from "../scoring/score-version.ts";
import type { StateDatabase } from "../state/database.ts";
import { finishDeploy, markDeployInProgress, versionOfRun } from "../state/deploys.ts";
import { modelNameOf } from "../store/model-name.ts";
import type { ModelStore, ModelVersion } from "../store/model-store.ts";
import { crashPoint } from "./crash-points.ts";
import { FileCopies } from "./file-copies.ts";

export interface DeployParts {
  profile: Profile;
  paths: ResolvedPaths;
  registry: PluginRegistry;
  state: StateDatabase;
  store: ModelStore;
  activator: ModelActivator;
  logger: Logger;
  events: Events;
  procRoot?: string;
  serving?: ServingActivity;
  /** Files placed for file-reading predictors, pending ones retried; the services' own, else one of its own. */
  copies?: FileCopies;
}

export interface DeployRequest {
  job: string;
  key?: string;
  spec: Job;
  run: string;
  result: TrainResult;
  /** Rows neither version trained on, for the gate and the health check; undefined without data. */
  heldOut?: DataTable;
  logger: Logger;
  signal: AbortSignal;
  /** What the deploy steps are told of the job (their context's `job`); the job runner's. */
  jobInfo?: JobInfo;
  /** Why the version is activated, for the log; `run RUN` when left out. */
  reason?: string;
  /** A run that ignores conflicts (`--ignore-conflicts`, `--force`) writes its files past live predictors too. */
  ignoreConflicts?: boolean;
}

/** A version already in the store (an imported model, a fleet update), to pass through deploy steps. */
export interface StoredDeployRequest {
  model: string;
  version: number;
  /** The local job (and key) that trains the model: the steps and the conflict policy go by it; default the model. */
  job?: string;
  key?: string;
  /** The job's steps; gate then activate when left out. */
  steps?: Job["deploy"];
  heldOut?: DataTable;
  reason: string;
  logger: Logger;
  signal: AbortSignal;
}

export interface Deployment {
  model: string;
  version: number;
  /** activated, rejected (a gate said no), stored (no step activated it) or failed (a step broke; rolled back). */
  status: "activated" | "rejected" | "stored" | "failed";
  message?: string;
  steps: Array<{ step: string; ok: boolean; message?: string; rolled_back?: boolean }>;
}

const HEALTH_ROWS = 5;

/** The default when a job names no steps: never serve a worse model than the one serving now. */
export const DEFAULT_DEPLOY = ["gate", "activate"];

/** Stores a run's model as the next version and passes it through the job's deploy steps in order. */
export class Deployer {
  private readonly copies: FileCopies;

  constructor(private readonly parts: DeployParts) {
    const { state, profile, paths, logger, events, procRoot, serving } = parts;
    const home = paths.home;
    const own = () => new FileCopies({ state, profile: () => profile, home, logger, events, procRoot, serving });
    this.copies = parts.copies ?? own();
  }

  /** The model job+key writes versions of: the job's `model`, else JOB-KEY. */
  modelOf(job: string, key: string | undefined): string {
    return modelNameOf(job, key, this.parts.profile.jobs[job]?.model);
  }

  /** The serving version of job+key's model, whichever job made it, with its file: what warm starts continue from. */
  startingPoint(job: string, key: string | undefined): { version: number; artifact: string } | undefined {
    const active = this.parts.store.active(this.modelOf(job, key));
    return active && { version: active.version, artifact: active.path };
  }

  /** The serving version of job+key's model; undefined when none serves. */
  activeVersion(job: string, key: string | undefined): number | undefined {
    return this.parts.store.activeVersion(this.modelOf(job, key));
  }

  /**
   * Records the deploy of a recorded run as in progress, then done or failed once its steps decided. One cut
   * short by the signal (edgetrain stopping) stays in progress: the next start resumes it.
   */
  async deploy(request: DeployRequest): Promise<Deployment> {
    const { db } = this.parts.state;
    markDeployInProgress(db, request.run);
    try {
      const { deployment, finished } = await this.storeAndRunSteps(request);
      if (finished) finishDeploy(db, request.run, { state: deployment.status === "activated" || deployment.status === "stored" ? "done" : "failed", version: deployment.version, reason: deployment.message });
      else request.logger.warn(`the deploy of model ${deployment.model} version ${deployment.version} stopped before its end; it resumes at the next start`, { reason: messageOf(request.signal.reason) });
      return deployment;
    } catch (error) {
      // Broken rather than stopped: final, so a model that cannot be deployed is not tried again at every start.
      if (!request.signal.aborted) finishDeploy(db, request.run, { state: "failed", reason: messageOf(error) });
      throw error;
    }
  }

  /**
   * Passes a version already stored (an imported model, a fleet update) through deploy steps, the gate on
   * `heldOut` then activation by default: the same steps, checks and rollback as a run's model, with no run
   * record.
   */
  async deployStored(request: StoredDeployRequest): Promise<Deployment> {
    const candidate = this.parts.store.requireVersion(request.model, request.version);
    const spec = { deploy: request.steps?.length ? request.steps : DEFAULT_DEPLOY } as Job;
    const { reason, heldOut, logger, signal } = request;
    const result = { artifact: candidate.path, metrics: candidate.metrics };
    const like: DeployRequest = {
      job: request.job ?? request.model,
      key: request.key,
      spec,
      run: reason,
      reason,
      result,
      heldOut,
      logger,
      signal,
    };
    return (await this.runStoredSteps(like, request.model, candidate)).deployment;
  }

  private async storeAndRunSteps(request: DeployRequest): Promise<{ deployment: Deployment; finished: boolean }> {
    const model = modelNameOf(request.job, request.key, request.spec.model);
    const candidate = this.versionOfRun(model, request) ?? (await this.addVersion(model, request));
    crashPoint("after-version-added");
    return this.runStoredSteps(request, model, candidate);
  }

  private async runStoredSteps(
    request: DeployRequest,
    model: string,
    candidate: ModelVersion,
  ): Promise<{ deployment: Deployment; finished: boolean }> {
    const { store } = this.parts;
    const deployment: Deployment = { model, version: candidate.version, status: "stored", steps: [] };
    // A resumed deploy whose version serves already (the crash came after the switch) compares with the one before it.
    const active = store.activeVersion(model);
    const previousVersion = active === candidate.version ? await store.rollbackTarget(model) : active;
    // Scoring loads sessions and runs the held-out rows: in a thread of its own, not the serving one.
    const { profile, paths } = this.parts;
    const scoring = ScoringThread.forProfile(profile, paths.cache);
    try {
      await this.runSteps(request, model, candidate, previousVersion, deployment, scoring);
    } finally {
      scoring.close();
    }
    this.parts.state.recordEvent("model.deployed", { ...deployment });
    this.parts.events.emit("model.deployed", { ...deployment });
    return { deployment, finished: !request.signal.aborted };
  }

  /** The version the run's model became before a crash cut its deploy short: resumed, it is not added twice. */
  private versionOfRun(model: string, request: DeployRequest): ModelVersion | undefined {
    const version = versionOfRun(this.parts.state.db, model, request.run);
    const found = version === undefined ? undefined : this.parts.store.version(model, version);
    if (!found || !existsSync(found.path)) return undefined;
    request.logger.info(`model ${model} version ${found.version} of run ${request.run} is in the store already; not added again`, { model, version: found.version });
    return found;
  }

  private addVersion(model: string, request: DeployRequest): Promise<ModelVersion> {
    const metadata = request.result.metadata ?? {};
    // The strategy's metadata usually says it all; decoding the ONNX file is the fallback (foreign trainers).
    const description = metadata.feature_names ? undefined : readModelDescription(readFileSync(request.result.artifact), request.result.artifact);
    return this.parts.store.addVersion(
      model,
      request.result.artifact,
      {
        source: "run",
        job: request.job,
        key: request.key,
        run: request.run,
        strategy: request.spec.strategy,
        options: request.spec.options,
        data: (metadata.data as Record<string, unknown> | undefined) ?? undefined,
        task: (metadata.task as "classification" | "regression" | undefined) ?? description?.task,
        feature_names: (metadata.feature_names as string[] | undefined) ?? description?.feature_names,
        classes: (metadata.classes as string[] | undefined) ?? description?.classes,
        metrics: request.result.metrics,
        ...lineageOf(metadata),
      },
      request.heldOut ? healthRows(request.heldOut) : undefined,
    );
  }

  private async runSteps(request: DeployRequest, model: string, candidate: ModelVersion, previousVersion: number | undefined, deployment: Deployment, scoring: ScoringThread): Promise<void> {
    const hooks = this.candidate(request, model, candidate.version, candidate.path, previousVersion, deployment, scoring);
    for (const step of request.spec.deploy.length ? request.spec.deploy : DEFAULT_DEPLOY) {
      const name = typeof step === "string" ? step : String(step.type);
      const { type: _type, ...options } = typeof step === "string" ? { type: step } : step;
      if (request.signal.aborted) break;
      let outcome;
      try {
        const deploy = await this.setupStep(name, options, request);
        outcome = await deploy.deploy(hooks);
      } catch (error) {
        outcome = { ok: false, message: messageOf(error) };
      }
      deployment.steps.push({ step: name, ok: outcome.ok, message: outcome.message, ...(outcome.rolledBack ? { rolled_back: true } : {}) });
      if (!outcome.ok) {
        if (deployment.status !== "rejected") deployment.status = "failed";
        deployment.message = `${name}: ${outcome.message ?? "failed"}`;
        request.logger.warn(`deploy step ${name} stopped model ${model} version ${candidate.version}`, { reason: outcome.message });
        break;
      }
    }
  }

  private setupStep(name: string, options: Record<string, unknown>, request: DeployRequest): Promise<DeployHooks> {
    return instantiate("deploy", name, options, {
      plugins: this.parts.registry,
      logger: request.logger.child({ step: name }),
      paths: this.parts.paths,
      signal: request.signal,
      events: this.parts.events,
      store: this.parts.state.pluginStore(`deploy/${name}`),
      job: request.jobInfo,
    });
  }

  private candidate(request: DeployRequest, model: string, version: number, artifact: string, previousVersion: number | undefined, deployment: Deployment, scoring: ScoringThread): DeployCandidate {
    const { store, activator } = this.parts;
    const predict = (target: ModelVersion, x: Float32Array, rows: number) => scoring.predict(target.path, x, rows, target.feature_names?.length ?? 0, target.classes ?? []);
    return {
      model,
      version,
      artifact,
      metrics: request.result.metrics,
      previousVersion,
      job: request.job,
      key: request.key,
      damagedActive: async () => {
        const active = previousVersion !== undefined ? store.version(model, previousVersion) : undefined;
        const problem = active && (await store.damageOf(active));
        return active && problem ? { version: active.version, file: active.path, problem } : undefined;
      },
      score: async (which = version) => (request.heldOut ? scoreVersion(store.requireVersion(model, which), request.heldOut, predict) : undefined),
      activate: async () => {
        crashPoint("before-activate");
        await activator.activate(model, version, request.reason ?? `run ${request.run}`);
        deployment.status = "activated";
        crashPoint("after-activate");
      },
      rollback: async (reason) => {
        // A step before `activate` has nothing to undo in the store: the candidate never served.
        if (store.activeVersion(model) === version) await activator.undo(model, reason);
        else store.reject(model, version, reason);
        deployment.status = "failed";
      },
      reject: (reason, gate) => {
        store.reject(model, version, reason, gate);
        deployment.status = "rejected";
      },
      note: (gate) => store.note(model, version, gate),
      clearOfPredictors: () => this.clearOfPredictors(request),
      placeFile: async (target, previous) => {
        const clearance = await this.clearOfPredictors(request);
        // Cut short by a stop: the deploy itself resumes at the next start, this copy with it.
        if (!clearance.clear && request.signal.aborted) {
          return { written: false, pending: false, message: clearance.message ?? "cancelled" };
        }
        const { job, key } = request;
        const copy = { model, version, job, key, kind: "copy" as const, source: artifact, target, previous };
        return this.copies.place(copy, clearance);
      },
    };
  }

  /** The job's live predictors, under its policy; nobody can answer an `ask` here, so on_unattended applies. */
  private async clearOfPredictors(request: DeployRequest): Promise<PredictorClearance> {
    const { profile, paths, procRoot, serving, state } = this.parts;
    const clearance = new ConflictClearance({
      profile, home: paths.home, clock: systemClock, asker: new UnattendedAsker(),
      logger: request.logger, procRoot, serving,
      record: (type, data) => state.recordEvent(type, data), by: "deploy", doing: "writes its model files",
    });
    const policy = request.ignoreConflicts ? "force" : undefined;
    const verdict = await clearance.clear({ job: request.job, key: request.key, policy }, request.signal);
    if (verdict.to === "drop") return { clear: false, message: verdict.reason };
    if (!verdict.forced) return { clear: true };
    return { clear: true, message: `forced past ${describePredictors(verdict.forced)}` };
  }
}

/**
 * The version the run started from (the job runner puts it in the result, null for none) and whether the
 * strategy continued from it. A run recorded before runs kept it gets the store's default: the active version.
 */
function lineageOf(metadata: Record<string, unknown>): { parent?: number; warm_started?: boolean } {
  return {
    ...("parent" in metadata ? { parent: typeof metadata.parent === "number" ? metadata.parent : undefined } : {}),
    ...(typeof metadata.warm_started === "boolean" ? { warm_started: metadata.warm_started } : {}),
  };
}

function healthRows(table: DataTable): number[][] {
  const width = table.featureNames.length;
  return Array.from({ length: Math.min(HEALTH_ROWS, table.rows) }, (_, row) => Array.from(table.x.subarray(row * width, (row + 1) * width)));
}
