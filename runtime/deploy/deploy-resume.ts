import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Job, Profile } from "../config/schema.ts";
import { loadTrainingData } from "../data/load-training-data.ts";
import { messageOf } from "../errors.ts";
import { isOwnerAlive, readLockOwner } from "../locks/lockfile.ts";
import type { DataTable, JobInfo, Logger, ResolvedPaths } from "../plugin-api.ts";
import { heldOutRows } from "../scoring/score-version.ts";
import type { StateDatabase } from "../state/database.ts";
import {
  finishDeploy,
  recordRunDeployment,
  type UnfinishedDeploy,
  unfinishedDeploys,
  versionOfRun,
} from "../state/deploys.ts";
import type { Deployer } from "./deployer.ts";
import { deploymentText } from "./deployment.ts";

export interface ResumeParts {
  deployer: Deployer;
  profile: Profile;
  paths: ResolvedPaths;
  state: StateDatabase;
  logger: Logger;
  /** What the deploy steps are told of the job (their context's `job`). */
  jobInfo?: (job: string) => JobInfo;
}

/**
 * A crash between a run's success and its model serving leaves the deploy pending or in progress, and the
 * model would never serve: nothing else looks at a succeeded run again. So does a deploy that failed on the
 * machine (a folder it may not write, a full disk: deploy-failure.ts), left pending on purpose. At start,
 * before any run, each goes through its job's deploy steps again, in the order the runs ended; one a newer
 * run of its job and key superseded is closed instead. Its version is added to the store unless it is there.
 */
export async function resumeDeploys(parts: ResumeParts): Promise<void> {
  for (const left of unfinishedDeploys(parts.state.db)) {
    try {
      await resume(parts, left);
    } catch (error) {
      parts.logger.error(`could not resume the deploy of run ${left.run}`, {
        job: left.job,
        key: left.key,
        run: left.run,
        model: left.model,
        error: messageOf(error),
      });
    }
  }
}

async function resume(parts: ResumeParts, left: UnfinishedDeploy): Promise<void> {
  const { job, key, run, model } = left;
  const logger = parts.logger.child({ job, ...(key !== undefined ? { key } : {}), run });
  // `edgetrain train` holds its run's training lock until the deploy ends: a live owner is still at it.
  const owner = readLockOwner(join(parts.paths.home, "locks", `training-${run}.lock`));
  if (owner && isOwnerAlive(owner)) {
    logger.info(`the deploy of run ${run} is under way in pid ${owner.pid}; left to it`, { model, pid: owner.pid });
    return;
  }
  // An older model going live over a newer one would undo what the newer run's deploy decided.
  if (left.superseded_by) {
    finishDeploy(parts.state.db, run, { state: "failed", reason: `superseded by run ${left.superseded_by}` });
    logger.info(
      `the deploy of run ${run} left by a crash is not resumed: run ${left.superseded_by} of the same job and key is ` +
        `newer`,
      { model },
    );
    return;
  }
  const why = left.reason !== undefined ? `that failed on this machine (${left.reason})` : "left by a crash";
  logger.warn(`resuming the deploy of run ${run} (job ${job}${key !== undefined ? `, key ${key}` : ""}) ${why}`, {
    model,
    state: left.state,
  });
  const spec = parts.profile.jobs[job];
  const cannot = !spec
    ? `job ${job} is no longer in the profile`
    : versionOfRun(parts.state.db, model, run) === undefined && !existsSync(left.result.artifact)
      ? `its model file ${left.result.artifact} is gone and the store has no version of it`
      : undefined;
  if (cannot || !spec) {
    finishDeploy(parts.state.db, run, { state: "failed", reason: cannot });
    logger.warn(`the deploy of run ${run} cannot be resumed: ${cannot}; model ${model} gets no version from it`, {
      model,
    });
    return;
  }
  const heldOut = await heldOutRowsOf(spec, left, parts.paths, logger);
  const deployment = await parts.deployer.deploy({
    job,
    key,
    spec,
    run,
    result: left.result,
    heldOut,
    logger,
    signal: new AbortController().signal,
    jobInfo: parts.jobInfo?.(job),
  });
  recordRunDeployment(parts.state.db, run, deployment);
  const served = deployment.status === "activated" || deployment.status === "stored";
  logger[served ? "info" : "warn"](`resumed the deploy of run ${run}: ${deploymentText(deployment)}`, {
    model,
    version: deployment.version,
  });
}

/**
 * The rows the gate compares on lived only in the crashed process: they are read again from the job's data
 * as of the run's start. This runs before the API listens, so the parsing keeps no prediction waiting.
 */
async function heldOutRowsOf(
  spec: Job,
  left: UnfinishedDeploy,
  paths: ResolvedPaths,
  logger: Logger,
): Promise<DataTable | undefined> {
  if (!spec.data) return undefined;
  try {
    return heldOutRows(
      await loadTrainingData(spec.data, { dataRoot: paths.data, key: left.key, now: left.started_at }),
    );
  } catch (error) {
    logger.warn(
      `cannot read the held-out rows of run ${left.run} again (${messageOf(error)}); its deploy goes on without them`,
      { model: left.model },
    );
    return undefined;
  }
}
