import type { ClearanceTarget } from "../conflicts/clearance.ts";
import type { Events } from "../events/bus.ts";
import type { Logger } from "../plugin-api.ts";
import type { StateDatabase } from "../state/database.ts";
import { updateQueuedRun } from "../state/queued-runs.ts";
import { ignoredInWords, type RunOverrides } from "../training/run-overrides.ts";

/** The keys a request names; undefined for a job without keys. */
export type Keys = Array<string | undefined>;

/** What a request to run a job came to, for one of its keys. */
export interface KeyRequested {
  key?: string;
  /**
   * `queued` anew; `upgraded`: already waiting, it now ignores what the request says to ignore; `already_queued`:
   * waiting, and the request adds nothing to it; `running`: a run of the job and key is in progress.
   */
  result: "queued" | "upgraded" | "already_queued" | "running";
}

/** A queue entry, as a later request for its job+key may change it. */
export interface WaitingEntry extends ClearanceTarget {
  reason: string;
  queuedAt: number;
  /** What a person told the run to ignore: the governor's admission (and off-peak), the predictors. */
  overrides: RunOverrides;
  /** `force` for a run that ignores conflicts: the clearance's policy for this entry. */
  policy?: "force";
}

export interface JoinParts {
  state: StateDatabase;
  logger: Logger;
  /** Lets go of the predictors or the question the entry waits on: it now forces past them. */
  release(entry: WaitingEntry): void;
  record: Events["emit"];
}

/**
 * A request for a job+key that already waits in the queue. What it ignores that the entry does not yet applies
 * to the entry, loudly: a run the governor deferred, or that predictors hold, goes ahead as the person said, and
 * its trigger adds the request's. A request that adds nothing only joins the entry.
 */
export function joinWaiting(
  entry: WaitingEntry,
  request: Pick<WaitingEntry, "reason" | "overrides">,
  parts: JoinParts,
) {
  const { job, key, overrides } = entry;
  const added: RunOverrides = {
    ...(request.overrides.ignoreGovernor && !overrides.ignoreGovernor && { ignoreGovernor: true }),
    ...(request.overrides.ignoreConflicts && !overrides.ignoreConflicts && { ignoreConflicts: true }),
  };
  const ignoring = ignoredInWords(added);
  if (!ignoring) {
    parts.record("run.skipped", { job, key, reason: "already queued" });
    return { key, result: "already_queued" } satisfies KeyRequested;
  }
  // The run's trigger keeps why it was queued, and what made it ignore more.
  entry.reason = `${entry.reason}; ${request.reason}`;
  entry.overrides = { ...overrides, ...added };
  if (added.ignoreConflicts) {
    entry.policy = "force";
    parts.release(entry);
  }
  const what = `job ${job}${key !== undefined ? ` for ${key}` : ""}`;
  parts.logger.warn(`${what}, already queued, now runs ${ignoring}`, { job, key, reason: request.reason });
  updateQueuedRun(parts.state, { job, key: key ?? null, trigger: entry.reason, overrides: entry.overrides });
  return { key, result: "upgraded" } satisfies KeyRequested;
}
