import { existsSync } from "node:fs";
import type { Job, Profile } from "../config/schema.ts";
import type { ServingActivity } from "../conflicts/predictors.ts";
import { messageOf } from "../errors.ts";
import type { Events } from "../events/bus.ts";
import type { DeployHooks, Logger, ResolvedPaths } from "../plugin-api.ts";
import { instantiate } from "../plugins/instantiate.ts";
import type { PluginRegistry } from "../plugins/registry.ts";
import { ScoringThread } from "../scoring/scoring-thread.ts";
import type { ModelActivator } from "../serving/model-activator.ts";
import type { StateDatabase } from "../state/database.ts";
import { finishDeploy, markDeployInProgress, retryDeployAtStart, versionOfRun } from "../state/deploys.ts";
import { modelNameOf } from "../store/model-name.ts";
import type { ModelStore, ModelVersion } from "../store/model-store.ts";
import { crashPoint } from "./crash-points.ts";
import { deployCandidate } from "./deploy-candidate.ts";
import { isEnvironmental } from "./deploy-failure.ts";
import type { Deployment, DeployRequest, StoredDeployRequest } from "./deployment.ts";
import { FileCopies } from "./file-copies.ts";
import { healthRows, metadataOfRun } from "./run-version-metadata.ts";
import { clearToWrite } from "./write-clearance.ts";

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

/** The default when a job names no steps: never serve a worse model than the one serving now. */
export const DEFAULT_DEPLOY = ["gate", "activate"];

/** Stores a run's model as the next version and passes it through the job's deploy steps in order. */
export class Deployer {
  private readonly copies: FileCopies;

  constructor(private readonly parts: DeployParts) {
    const { state, profile, paths, logger, events, procRoot, serving } = parts;
    const home = paths.home;
    const versions = () => parts.store;
    const own = () =>
      new FileCopies({ state, profile: () => profile, home, logger, events, procRoot, serving, versions });
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
   * short by the signal (edgetrain stopping) stays in progress: the next start resumes it. One that broke is
   * answered as failed, like a step's refusal, so it joins the run's record and the `model.deployed` event; if
   * it broke on the machine (deploy-failure.ts) it stays pending, to be tried again at the next start.
   */
  async deploy(request: DeployRequest): Promise<Deployment> {
    const { db } = this.parts.state;
    markDeployInProgress(db, request.run);
    const model = modelNameOf(request.job, request.key, request.spec.model);
    const deployment: Deployment = { model, status: "stored", steps: [] };
    let broken: unknown;
    try {
      broken = await this.storeAndRunSteps(request, deployment);
    } catch (error) {
      if (request.signal.aborted) throw error;
      broken = error;
      deployment.status = "failed";
      deployment.message =
        deployment.version === undefined
          ? `could not store the model: ${messageOf(error)}`
          : `the deploy broke: ${messageOf(error)}`;
      request.logger.error(`could not deploy model ${model}`, { error: messageOf(error) });
    }
    // A stop is a stop, whether a step answered it or threw its reason: the next start resumes the deploy.
    if (request.signal.aborted) {
      request.logger.warn(
        `the deploy of model ${model} version ${deployment.version} stopped before its end; it resumes at the next ` +
          `start`,
        { reason: messageOf(request.signal.reason) },
      );
    } else if (broken !== undefined && isEnvironmental(broken)) {
      deployment.retry_at_start = true;
      retryDeployAtStart(db, request.run, deployment.message ?? messageOf(broken));
      request.logger.warn(`the deploy of model ${model} failed on this machine; it is tried again at the next start`, {
        reason: deployment.message,
      });
    } else {
      const done = deployment.status === "activated" || deployment.status === "stored";
      const { version, message: reason } = deployment;
      finishDeploy(db, request.run, { state: done ? "done" : "failed", version, reason });
    }
    this.announce(deployment);
    return deployment;
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
    const deployment: Deployment = { model: request.model, version: candidate.version, status: "stored", steps: [] };
    await this.runStoredSteps(like, candidate, deployment);
    this.announce(deployment);
    return deployment;
  }

  private announce(deployment: Deployment): void {
    this.parts.state.recordEvent("model.deployed", { ...deployment });
    this.parts.events.emit("model.deployed", { ...deployment });
  }

  /** Returns the error a step threw, if one did rather than answer. */
  private async storeAndRunSteps(request: DeployRequest, deployment: Deployment): Promise<unknown> {
    const { model } = deployment;
    const candidate = this.versionOfRun(model, request) ?? (await this.addVersion(model, request));
    deployment.version = candidate.version;
    crashPoint("after-version-added");
    return this.runStoredSteps(request, candidate, deployment);
  }

  /** Returns the error a step threw, if one did rather than answer. */
  private async runStoredSteps(
    request: DeployRequest,
    candidate: ModelVersion,
    deployment: Deployment,
  ): Promise<unknown> {
    const { store } = this.parts;
    const { model } = deployment;
    // Taken before any await: a version another run adds meanwhile must not prune the one being deployed.
    using _held = store.hold(model, candidate.version);
    // A resumed deploy whose version serves already (the crash came after the switch) compares with the one before it.
    const active = store.activeVersion(model);
    const previousVersion = active === candidate.version ? await store.rollbackTarget(model) : active;
    // Scoring loads sessions and runs the held-out rows: in a thread of its own, not the serving one.
    const { profile, paths } = this.parts;
    const scoring = ScoringThread.forProfile(profile, paths.cache);
    const placing = this.copies.deploying(model);
    try {
      return await this.runSteps(request, model, candidate, previousVersion, deployment, scoring);
    } finally {
      scoring.close();
      placing.ended(request.signal.aborted);
    }
  }

  /** The version the run's model became before a crash cut its deploy short: resumed, it is not added twice. */
  private versionOfRun(model: string, request: DeployRequest): ModelVersion | undefined {
    const version = versionOfRun(this.parts.state.db, model, request.run);
    const found = version === undefined ? undefined : this.parts.store.version(model, version);
    if (!found || !existsSync(found.path)) return undefined;
    request.logger.info(
      `model ${model} version ${found.version} of run ${request.run} is in the store already; not added again`,
      { model, version: found.version },
    );
    return found;
  }

  private addVersion(model: string, request: DeployRequest): Promise<ModelVersion> {
    const healthInputs = request.heldOut ? healthRows(request.heldOut) : undefined;
    return this.parts.store.addVersion(model, request.result.artifact, metadataOfRun(request), healthInputs);
  }

  private async runSteps(
    request: DeployRequest,
    model: string,
    candidate: ModelVersion,
    previousVersion: number | undefined,
    deployment: Deployment,
    scoring: ScoringThread,
  ): Promise<unknown> {
    const { store, activator, paths } = this.parts;
    const { version } = candidate;
    const parts = {
      store,
      activator,
      scoring,
      copies: this.copies,
      clearOfPredictors: (target?: string) =>
        clearToWrite({ ...this.parts, home: paths.home }, request, { model, version, target }),
    };
    const hooks = deployCandidate(
      parts,
      request,
      model,
      candidate.version,
      candidate.path,
      previousVersion,
      deployment,
    );
    for (const step of request.spec.deploy.length ? request.spec.deploy : DEFAULT_DEPLOY) {
      const name = typeof step === "string" ? step : String(step.type);
      const { type: _type, ...options } = typeof step === "string" ? { type: step } : step;
      if (request.signal.aborted) break;
      let outcome: Awaited<ReturnType<DeployHooks["deploy"]>>;
      let thrown: unknown;
      try {
        const deploy = await this.setupStep(name, options, request);
        outcome = await deploy.deploy(hooks);
      } catch (error) {
        thrown = error;
        outcome = { ok: false, message: messageOf(error) };
      }
      deployment.steps.push({
        step: name,
        ok: outcome.ok,
        message: outcome.message,
        ...(outcome.rolledBack ? { rolled_back: true } : {}),
      });
      if (!outcome.ok) {
        if (deployment.status !== "rejected") deployment.status = "failed";
        deployment.message = `${name}: ${outcome.message ?? "failed"}`;
        request.logger.warn(`deploy step ${name} stopped model ${model} version ${candidate.version}`, {
          reason: outcome.message,
        });
        return thrown;
      }
    }
    return undefined;
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
}
