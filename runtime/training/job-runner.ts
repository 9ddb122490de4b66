import type { Profile } from "../config/schema.ts";
import { resumeDeploys } from "../deploy/deploy-resume.ts";
import type { Deployer } from "../deploy/deployer.ts";
import { notFound } from "../errors.ts";
import type { Events } from "../events/bus.ts";
import type { Governor } from "../governor/governor.ts";
import type { DeployState, JobInfo, Logger, ResolvedPaths } from "../plugin-api.ts";
import type { PluginRegistry } from "../plugins/registry.ts";
import { scoreActiveModel } from "../scoring/score-active-model.ts";
import type { StateDatabase } from "../state/database.ts";
import type { Retention } from "../state/retention.ts";
import { latestSuccess } from "../state/runs.ts";
import type { ModelStore } from "../store/model-store.ts";
import { jobKeys } from "./job-keys.ts";
import { type KeyRunContext, runKey } from "./key-run.ts";
import { stopLeftoverTrainers } from "./leftover-trainers.ts";
import type { RunControl } from "./run-control.ts";
import type { RunOutcome, RunRequest } from "./run-request.ts";

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
  /**
   * Takes a successful run's model into the store and through the job's deploy steps; without one the artifact stays in
   * the run folder.
   */
  deployer?: Deployer;
  /** Removes the job's old run folders after each run (`history.run_folders`). */
  retention?: Retention;
  /** Where runs read the machine's free memory and GPU (`/` and the PATH by default). */
  host?: { root: string; toolPath?: string };
  /** The model store, whose active versions score jobs run; without one a score job cannot run. */
  store?: ModelStore;
}

/** Runs one job for its keys, one after the other: strategy, data, checkpoint rules and run record. */
export class JobRunner {
  /** Runs in progress, by run id: what `cancel`, `pause` and `resume` act on. */
  readonly active: Map<string, RunControl>;

  constructor(private readonly parts: JobRunnerParts) {
    this.active = parts.active ?? new Map();
  }
  /** What one run of a key reaches of the runner. */
  private get keyRun(): KeyRunContext {
    return {
      parts: this.parts,
      active: this.active,
      lastSuccess: (job, key) => this.lastSuccess(job, key),
      jobInfo: (name) => this.jobInfo(name),
    };
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
    const shown = named.slice(0, 20).join(", ") + (named.length > 20 ? `, … ${named.length - 20} more` : "");
    throw notFound("key", key, named, {
      message: `job ${name} has no key "${key}"`,
      details: { job: name, key },
      hint: `keys: ${shown || "(none: the job has no key scope)"}`,
    });
  }

  async run(request: RunRequest): Promise<RunOutcome[]> {
    const job = this.jobNamed(request.job);
    const keys = await this.requireKey(request.job, request.key);
    const outcomes: RunOutcome[] = [];
    for (const key of request.key !== undefined ? [request.key] : keys) {
      if (request.signal?.aborted) break;
      outcomes.push(await runKey(this.keyRun, request, job, key));
    }
    return outcomes;
  }

  /**
   * The latest successful run of job+key: when it ended, the artifact warm starts continue from, and how far its deploy
   * got.
   */
  lastSuccess(
    job: string,
    key: string | undefined,
  ): { at: number; artifact?: string; used?: string[]; deploy?: DeployState } | undefined {
    const row = latestSuccess(this.parts.state.db, job, key);
    if (!row) return undefined;
    const details = JSON.parse(row.details) as { artifact?: string; data?: { files?: string[]; testFiles?: string[] } };
    return {
      at: row.ended_at,
      artifact: details.artifact,
      used: [...(details.data?.files ?? []), ...(details.data?.testFiles ?? [])],
      ...(row.deploy ? { deploy: row.deploy } : {}),
    };
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

  /**
   * What a crash left is finished before any run: the trainers its runs left running are stopped, and the deploys
   * it left pending or in progress go through their job's steps again. The daemon and `edgetrain train` do it at start.
   */
  async recover(): Promise<void> {
    const { deployer, profile, paths, state, logger } = this.parts;
    await stopLeftoverTrainers(state, logger);
    if (deployer)
      await resumeDeploys({ deployer, profile, paths, state, logger, jobInfo: (name) => this.jobInfo(name) });
  }

  /** The active model of job+key scored on the newest data it has not trained on (accuracy-below). */
  scoreActive(job: string, key: string | undefined) {
    return scoreActiveModel(this.jobNamed(job), key, this.lastSuccess(job, key), this.parts.profile, this.parts.paths);
  }
}
