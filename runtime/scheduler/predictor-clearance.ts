import { durationMs } from "../config/duration.ts";
import type { Profile } from "../config/schema.ts";
import type { ConflictDesk } from "../conflicts/conflict-desk.ts";
import { conflictPolicy, scanForJob, type ActivePredictor, type ServingActivity } from "../conflicts/predictors.ts";
import type { Events } from "../events/bus.ts";
import type { Clock, Logger } from "../plugin-api.ts";

/** A queued entry's standing with live predictors: waiting for them to go, or for a person's answer. */
export interface ConflictWait {
  policy: "wait" | "ask";
  since: number;
  nextCheck: number;
  question?: string;
}

export interface ClearanceParts {
  profile: Profile;
  home: string;
  clock: Clock;
  desk: ConflictDesk;
  /** Someone can answer an `ask`; otherwise conflicts.on_unattended applies. */
  attended: boolean;
  logger: Logger;
  /** /proc, or a recorded tree in tests. */
  procRoot?: string;
  serving?: ServingActivity;
  /** Records a decision: the scheduler's event, state row and log line. */
  decide: Events["emit"];
}

/** `clear`: may start now; `hold`: keep it queued; otherwise leave the queue, for the reason given. */
export type Clearance = "clear" | "hold" | { drop: string };

function describe(predictors: ActivePredictor[]): string {
  return predictors.map((p) => `${p.name} (${p.found}${p.pid ? ` pid ${p.pid}` : ""}${p.lockfile ? ` ${p.lockfile}` : ""})`).join(", ");
}

/**
 * Whether a queued job may start with respect to live predictors (constraints.not_during). Applies the
 * policy — ask, wait, skip, force — and records each decision; the wait or question is kept on the entry.
 */
export class PredictorClearance {
  constructor(private readonly parts: ClearanceParts) {}

  check(entry: { job: string; key?: string; conflict?: ConflictWait }): Clearance {
    const { profile, clock, desk, decide } = this.parts;
    const names = profile.jobs[entry.job]?.constraints.not_during ?? [];
    if (names.length === 0) return "clear";
    const now = clock.now();
    const conflicts = profile.conflicts;
    if (entry.conflict && entry.conflict.nextCheck > now && !entry.conflict.question) return "hold";
    if (entry.conflict?.question) {
      const answer = desk.outcome(entry.conflict.question, now);
      if (answer === undefined) return "hold";
      decide("conflict.answered", { job: entry.job, key: entry.key, conflict: entry.conflict.question, answer });
      if (answer === "skip") return { drop: "skipped: the answer to the conflict was skip" };
      if (answer === "force") return this.forced(entry, []);
      entry.conflict = { policy: "wait", since: now, nextCheck: now };
    }
    const scan = scanForJob(profile, entry.job, { home: this.parts.home, procRoot: this.parts.procRoot, serving: this.parts.serving });
    for (const stale of scan.staleRemoved) decide("conflict.stale_lock_removed", { ...stale });
    if (scan.active.length === 0) {
      if (entry.conflict) decide("conflict.cleared", { job: entry.job, key: entry.key, waited_ms: now - entry.conflict.since });
      entry.conflict = undefined;
      return "clear";
    }
    const predictors = scan.active;
    if (entry.conflict?.policy === "wait") {
      if (now - entry.conflict.since >= durationMs(conflicts.max_wait)) return { drop: `gave up after waiting ${conflicts.max_wait} for ${describe(predictors)}` };
      entry.conflict.nextCheck = now + durationMs(conflicts.check_interval);
      return "hold";
    }
    const policy = conflictPolicy(profile, entry.job, this.parts.attended);
    decide("conflict.met", { job: entry.job, key: entry.key, predictors, policy });
    if (policy === "skip") return { drop: `skipped: ${describe(predictors)} is predicting` };
    if (policy === "force") return this.forced(entry, predictors);
    if (policy === "wait") {
      entry.conflict = { policy: "wait", since: now, nextCheck: now + durationMs(conflicts.check_interval) };
      decide("run.deferred", { job: entry.job, key: entry.key, reason: `waiting up to ${conflicts.max_wait} for ${describe(predictors)}` });
      return "hold";
    }
    const question = desk.ask({ job: entry.job, key: entry.key, predictors, asked_at: now, deadline: now + durationMs(conflicts.ask_timeout), default_answer: conflicts.ask_default });
    entry.conflict = { policy: "ask", since: now, nextCheck: now, question: question.id };
    decide("conflict.asked", { ...question });
    return "hold";
  }

  private forced(entry: { job: string; key?: string; conflict?: ConflictWait }, predictors: ActivePredictor[]): "clear" {
    this.parts.logger.warn(`FORCED: job ${entry.job}${entry.key ? ` for ${entry.key}` : ""} trains while a live predictor runs`, { predictors });
    this.parts.decide("conflict.forced", { job: entry.job, key: entry.key, predictors });
    entry.conflict = undefined;
    return "clear";
  }
}
