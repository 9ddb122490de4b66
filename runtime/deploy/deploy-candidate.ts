import type { DeployCandidate, PredictorClearance } from "../plugin-api.ts";
import { scoreVersion } from "../scoring/score-version.ts";
import type { ScoringThread } from "../scoring/scoring-thread.ts";
import type { ModelActivator } from "../serving/model-activator.ts";
import type { ModelStore, ModelVersion } from "../store/model-store.ts";
import { crashPoint } from "./crash-points.ts";
import type { Deployment, DeployRequest } from "./deployment.ts";
import type { FileCopies } from "./file-copies.ts";

/** What of the deployer a candidate's hooks reach. */
export interface CandidateParts {
  store: ModelStore;
  activator: ModelActivator;
  scoring: ScoringThread;
  copies: FileCopies;
  /** The job's live predictors, under its policy, before the step writes `target` (or files it does not name). */
  clearOfPredictors: (target?: string) => Promise<PredictorClearance>;
}

/** The candidate version as deploy steps see it: its scores, and the hooks that activate, roll back or place it. */
export function deployCandidate(
  parts: CandidateParts,
  request: DeployRequest,
  model: string,
  version: number,
  artifact: string,
  previousVersion: number | undefined,
  deployment: Deployment,
): DeployCandidate {
  const { store, activator, scoring, copies } = parts;
  const predict = (target: ModelVersion, x: Float32Array, rows: number) =>
    scoring.predict(target.path, x, rows, target.feature_names?.length ?? 0, target.classes ?? []);
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
    score: async (which = version) =>
      request.heldOut ? scoreVersion(store.requireVersion(model, which), request.heldOut, predict) : undefined,
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
    clearOfPredictors: () => parts.clearOfPredictors(),
    placeFile: async (target, previous) => {
      const clearance = await parts.clearOfPredictors(target);
      // Cut short by a stop: the deploy itself resumes at the next start, this copy with it.
      if (!clearance.clear && request.signal.aborted) {
        return { written: false, pending: false, message: clearance.message ?? "cancelled" };
      }
      const { job, key } = request;
      const copy = { model, version, job, key, kind: "copy" as const, source: artifact, target, previous };
      return copies.place(copy, clearance);
    },
  };
}
