import { EdgetrainError } from "../errors.ts";
import type { KeyRequested } from "../scheduler/run-request.ts";
import type { RunInProgress } from "../state/runs.ts";
import { ignoredInWords, type RunOverrides } from "../training/run-overrides.ts";
import type { RunQueued } from "./contract.ts";

export interface RunRequest {
  job: string;
  key: string | undefined;
  overrides: RunOverrides;
}

type KeyAnswer = RunQueued["keys"][number];

/** `job activity`, `job activity for player_1, player_2`, `job activity for 30 keys`. */
function whom(job: string, keys: KeyAnswer[]): string {
  const named = keys.flatMap(({ key }) => (key === null ? [] : [key]));
  if (named.length === 0) return `job ${job}`;
  return `job ${job} for ${named.length > 3 ? `${named.length} keys` : named.join(", ")}`;
}

/** `is already running (run r1, r2)`, naming the runs in progress that have a record yet. */
function running(keys: KeyAnswer[]): string {
  const runs = keys.flatMap(({ run }) => (run ? [run] : []));
  return `is already running${runs.length ? ` (run ${runs.join(", ")})` : ""}`;
}

/**
 * The answer to `POST /v1/jobs/:name/run` from what became of each key: `queued` when a run was queued, or one
 * already queued takes what the request ignores; `reason` says what happened to the other keys. A request that
 * finds only runs in progress is refused (already_running, 409): runs of a job and key never overlap.
 */
export function runRequestAnswer(request: RunRequest, taken: KeyRequested[], inProgress: RunInProgress[]): RunQueued {
  const { job, overrides } = request;
  const keys = taken.map(({ key, result }): KeyAnswer => {
    const run = result === "running" && inProgress.find((r) => r.job === job && (r.key ?? undefined) === key)?.id;
    return { key: key ?? null, result, ...(run ? { run } : {}) };
  });
  const of = (result: KeyAnswer["result"]) => keys.filter((key) => key.result === result);
  const ignore_governor = Boolean(overrides.ignoreGovernor);
  const ignore_conflicts = Boolean(overrides.ignoreConflicts);
  const force = ignore_governor && ignore_conflicts;
  const queued = of("queued").length + of("upgraded").length > 0;
  const answer = { queued, job, key: request.key ?? null, force, ignore_governor, ignore_conflicts, keys };
  if (keys.length > 0 && of("running").length === keys.length) {
    const message = `${whom(job, keys)} ${running(keys)}: runs of a job and key never overlap, so it was not queued`;
    const runs = keys.flatMap(({ run }) => (run ? [run] : []));
    const hint = "edgetrain status follows it; edgetrain cancel RUN stops it";
    throw new EdgetrainError("already_running", message, { details: { job, key: request.key ?? null, runs }, hint });
  }
  const notes = [
    of("upgraded").length &&
      `${whom(job, of("upgraded"))} was already queued: it now runs ${ignoredInWords(overrides)}`,
    of("already_queued").length && `${whom(job, of("already_queued"))} is already queued`,
    of("running").length && `${whom(job, of("running"))} ${running(of("running"))}`,
    keys.length === 0 && `job ${job} has no key to run`,
  ].filter((note): note is string => Boolean(note));
  return notes.length ? { ...answer, reason: notes.join("; ") } : answer;
}
