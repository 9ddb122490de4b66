import type { Profile } from "../config/schema.ts";
import { ConflictClearance, describePredictors, UnattendedAsker } from "../conflicts/clearance.ts";
import type { ServingActivity } from "../conflicts/predictors.ts";
import type { Events } from "../events/bus.ts";
import type { PredictorClearance } from "../plugin-api.ts";
import { systemClock } from "../plugins/context.ts";
import type { StateDatabase } from "../state/database.ts";
import type { DeployRequest } from "./deployment.ts";

export interface WriteClearanceParts {
  profile: Profile;
  home: string;
  state: StateDatabase;
  events: Events;
  procRoot?: string;
  serving?: ServingActivity;
}

/** What a deploy step is about to write: the candidate's file at `target` (copy-to-dir), or files it does not name. */
export interface DeployWrite {
  model: string;
  version: number;
  target?: string;
}

/**
 * The job's live predictors, under its policy, before a deploy step writes files they read; nobody can answer
 * an `ask` here, so on_unattended applies. A wait for them is the copy's (`copy.waiting`), not a deferral of
 * the run: the run is over by then.
 */
export async function clearToWrite(
  parts: WriteClearanceParts,
  request: DeployRequest,
  write: DeployWrite,
): Promise<PredictorClearance> {
  const { profile, home, procRoot, serving, state, events } = parts;
  const clearance = new ConflictClearance({
    profile,
    home,
    clock: systemClock,
    asker: new UnattendedAsker(),
    logger: request.logger,
    procRoot,
    serving,
    record: (type, data) => state.recordEvent(type, data),
    by: "deploy",
    doing: "writes its model files",
    waiting: (_target, reason) => {
      const { model, version, target } = write;
      const data = { model, version, ...(target !== undefined ? { target } : {}), reason };
      state.recordEvent("copy.waiting", data);
      events.emit("copy.waiting", data);
      const what = target !== undefined ? `the copy of model ${model} version ${version} to ${target}` : "the deploy";
      request.logger.info(`${what} is ${reason}`, { model, version, job: request.job, key: request.key });
    },
  });
  const policy = request.ignoreConflicts ? "force" : undefined;
  const verdict = await clearance.clear({ job: request.job, key: request.key, policy }, request.signal);
  if (verdict.to === "drop") return { clear: false, message: verdict.reason };
  if (!verdict.forced) return { clear: true };
  return { clear: true, message: `forced past ${describePredictors(verdict.forced)}` };
}
