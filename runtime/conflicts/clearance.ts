import { durationMs } from "../config/duration.ts";
import type { Profile } from "../config/schema.ts";
import type { Events } from "../events/bus.ts";
import type { Clock, Logger } from "../plugin-api.ts";
import {
  type Answered,
  type Asked,
  type Asker,
  type ConflictAnswer,
  type ConflictPolicy,
  type ConflictQuestion,
  type OpenConflict,
  openConflict,
} from "./asker.ts";
import { type ActivePredictor, type ServingActivity, scanForJob } from "./predictors.ts";

/** A job's standing with live predictors while it is held: waiting for them to go, or for an answer. */
export interface ConflictWait {
  policy: "wait" | "ask";
  since: number;
  nextCheck: number;
  question?: string;
}

/** A job (and key) about to train, or to write its model files; `conflict` is kept on it between checks. */
export interface ClearanceTarget {
  job: string;
  key?: string;
  /** Overrules the job's policy: `edgetrain train --force` forces. */
  policy?: ConflictPolicy;
  conflict?: ConflictWait;
}

/** Why a job was not cleared: the skip policy, a person's answer, max_wait, or its own cancellation. */
export type RefusalCause = "skip" | "answer" | "max_wait" | "cancelled";

/** `start`: clear (forced past the predictors named, if any); `hold`: ask again later; `drop`: give up. */
export type ClearanceStep =
  | { to: "start"; forced?: ActivePredictor[] }
  | { to: "hold" }
  | { to: "drop"; reason: string; cause: RefusalCause; predictors: ActivePredictor[] };

/** Where a blocking clear() ends: start, or drop. */
export type ClearanceVerdict = Exclude<ClearanceStep, { to: "hold" }>;

export interface ClearanceParts {
  profile: Profile;
  home: string;
  clock: Clock;
  /** How a question reaches a person: the daemon's desk, a terminal, or nobody (unattendedAsker). */
  asker: Asker;
  /** Where the FORCED warning goes. */
  logger: Logger;
  /** /proc, or a recorded tree in tests. */
  procRoot?: string;
  serving?: ServingActivity;
  /** Records a decision: the scheduler's event, state row and log line; elsewhere a state row. */
  record: Events["emit"];
  /** Who met the conflict, kept with conflict.met: `deploy`, `edgetrain train`. */
  by?: string;
  /** What the predictors are in the way of, for the FORCED warning: `trains` unless said. */
  doing?: string;
  /**
   * Says that the job waits for its predictors (policy wait), with why: a run deferred (`run.deferred`)
   * unless said, since a run waits before it starts; a deploy's copy, written after its run, says its own.
   */
  waiting?: (target: Omit<ClearanceTarget, "conflict">, reason: string) => void;
}

/** How often a blocking clear() looks for a person's answer. */
const ANSWER_POLL_MS = 50;

/** The policy a job's profile gives it when it meets a live predictor: on_conflict, else conflicts.policy. */
export function jobPolicy(profile: Profile, job: string): ConflictPolicy {
  return profile.jobs[job]?.constraints.on_conflict ?? profile.conflicts.policy;
}

/** Predictors as a person reads them: `live (hold pid 412)`, `api (serving pid 9 model activity-p1)`. */
export function describePredictors(predictors: readonly ActivePredictor[]): string {
  const one = (p: ActivePredictor) =>
    `${p.name} (${p.found}${p.pid ? ` pid ${p.pid}` : ""}${p.model ? ` model ${p.model}` : ""})`;
  return predictors.map(one).join(", ");
}

/** What stands in for `ask` where nobody answers: on_unattended; set to `ask` itself, ask_default at once. */
function unattendedAnswer(conflicts: Profile["conflicts"]): ConflictAnswer {
  return conflicts.on_unattended === "ask" ? conflicts.ask_default : conflicts.on_unattended;
}

/** Nobody can answer here (a deploy step, no terminal): conflicts.on_unattended stands in for `ask`. */
export class UnattendedAsker implements Asker {
  private readonly questions = new Map<string, OpenConflict>();

  canAnswer(): boolean {
    return false;
  }

  ask(question: ConflictQuestion): Asked {
    const asked = openConflict(`unattended-${this.questions.size}`, question);
    this.questions.set(asked.id, asked);
    return { conflict: asked, joined: false };
  }

  outcome(id: string): Answered | undefined {
    const question = this.questions.get(id);
    return question && { answer: question.default_answer, by: "unattended" };
  }
}

/**
 * The one conflict clearance: whether a job may go ahead while predictors it must not overlap
 * (constraints.not_during) are live. Applies the policy — ask, wait, skip, force — records each decision,
 * and puts `ask` through the injected asker. The scheduler steps it with check() on every pump; a deploy
 * step and `edgetrain train` wait for its verdict with clear().
 */
export class ConflictClearance {
  constructor(private readonly parts: ClearanceParts) {}

  /** One look, without waiting: the wait or question in progress is kept on the target. */
  check(target: ClearanceTarget): ClearanceStep {
    const { profile, clock, asker } = this.parts;
    if ((profile.jobs[target.job]?.constraints.not_during ?? []).length === 0) return { to: "start" };
    const now = clock.now();
    const conflicts = profile.conflicts;
    const held = target.conflict;
    if (held && held.nextCheck > now && !held.question) return { to: "hold" };
    if (target.conflict?.question) {
      const answered = asker.outcome(target.conflict.question, now, target.key);
      if (!answered) return { to: "hold" };
      this.answered(target, target.conflict.question, answered);
      if (answered.answer === "skip") {
        return this.refused("skipped: the answer to the conflict was skip", "answer", []);
      }
      if (answered.answer === "force") return this.forced(target, this.scan(target.job));
      target.conflict = { policy: "wait", since: now, nextCheck: now };
    }
    const predictors = this.scan(target.job);
    if (predictors.length === 0) {
      const waited_ms = target.conflict && now - target.conflict.since;
      if (waited_ms !== undefined) this.record("conflict.cleared", { job: target.job, key: target.key, waited_ms });
      target.conflict = undefined;
      return { to: "start" };
    }
    if (target.conflict?.policy === "wait") {
      if (now - target.conflict.since >= durationMs(conflicts.max_wait)) {
        const reason = `gave up after ${conflicts.max_wait}: ${describePredictors(predictors)} still predicting`;
        return this.refused(reason, "max_wait", predictors);
      }
      target.conflict.nextCheck = now + durationMs(conflicts.check_interval);
      return { to: "hold" };
    }
    const configured = target.policy ?? jobPolicy(profile, target.job);
    const policy = configured === "ask" && !asker.canAnswer() ? unattendedAnswer(conflicts) : configured;
    const by = this.parts.by;
    this.record("conflict.met", { job: target.job, key: target.key, predictors, policy, ...(by ? { by } : {}) });
    if (policy === "skip") {
      return this.refused(`skipped: ${describePredictors(predictors)} is predicting`, "skip", predictors);
    }
    if (policy === "force") return this.forced(target, predictors);
    if (policy === "wait") return this.waiting(target, predictors, now);
    const keyName = profile.jobs[target.job]?.key;
    const { conflict: question, joined } = asker.ask({
      job: target.job,
      key: target.key,
      ...(keyName ? { key_name: keyName } : {}),
      predictors,
      asked_at: now,
      deadline: now + durationMs(conflicts.ask_timeout),
      default_answer: asker.unansweredIsUnattended ? unattendedAnswer(conflicts) : conflicts.ask_default,
    });
    target.conflict = { policy: "ask", since: now, nextCheck: now, question: question.id };
    // A key that joins an open question is its conflict.met; the question itself is asked once.
    if (!joined) this.record("conflict.asked", { ...question });
    return { to: "hold" };
  }

  /** The target waits no more for predictors to go, nor for an answer: its next check starts afresh. */
  release(target: ClearanceTarget): void {
    const question = target.conflict?.question;
    if (question !== undefined) this.parts.asker.withdraw?.(question, target.key);
    target.conflict = undefined;
  }

  /** Looks until the job may start or must give up; `signal` ends the wait (the run was cancelled). */
  async clear(target: Omit<ClearanceTarget, "conflict">, signal?: AbortSignal): Promise<ClearanceVerdict> {
    const entry: ClearanceTarget = { ...target };
    for (;;) {
      const step = this.check(entry);
      if (step.to !== "hold") return step;
      if (signal?.aborted) {
        return { to: "drop", reason: "cancelled while waiting for predictors", cause: "cancelled", predictors: [] };
      }
      const untilCheck = (entry.conflict?.nextCheck ?? 0) - this.parts.clock.now();
      await Bun.sleep(Math.max(1, entry.conflict?.question ? ANSWER_POLL_MS : untilCheck));
    }
  }

  /**
   * Whether files the job's predictors read may be written now, without waiting or asking: none is live, or
   * the job's policy forces past them (logged and recorded as forced). For copies retried in the background.
   */
  writableNow(target: Omit<ClearanceTarget, "conflict">): { clear: boolean; predictors: ActivePredictor[] } {
    const predictors = this.scan(target.job);
    if (predictors.length === 0) return { clear: true, predictors };
    if ((target.policy ?? jobPolicy(this.parts.profile, target.job)) !== "force") return { clear: false, predictors };
    this.forced({ ...target }, predictors);
    return { clear: true, predictors };
  }

  private scan(job: string): ActivePredictor[] {
    const { profile, home, procRoot, serving } = this.parts;
    const scan = scanForJob(profile, job, { home, procRoot, serving });
    for (const stale of scan.staleRemoved) this.record("conflict.stale_lock_removed", { ...stale });
    return scan.active;
  }

  private answered(target: ClearanceTarget, conflict: string, answered: Answered): void {
    const { answer, by } = answered;
    this.record("conflict.answered", { job: target.job, key: target.key, conflict, answer, by });
  }

  private waiting(target: ClearanceTarget, predictors: ActivePredictor[], now: number): ClearanceStep {
    const { max_wait, check_interval } = this.parts.profile.conflicts;
    target.conflict = { policy: "wait", since: now, nextCheck: now + durationMs(check_interval) };
    const reason = `waiting up to ${max_wait} for ${describePredictors(predictors)}`;
    if (this.parts.waiting) this.parts.waiting(target, reason);
    else this.record("run.deferred", { job: target.job, key: target.key, reason });
    return { to: "hold" };
  }

  private forced(target: ClearanceTarget, predictors: ActivePredictor[]): ClearanceStep {
    const names = predictors.map((p) => p.name).join(", ") || "a live predictor";
    const what = `job ${target.job}${target.key ? ` for ${target.key}` : ""}`;
    this.parts.logger.warn(`FORCED: ${what} ${this.parts.doing ?? "trains"} while ${names} predicts`, { predictors });
    this.record("conflict.forced", { job: target.job, key: target.key, predictors });
    target.conflict = undefined;
    return { to: "start", forced: predictors };
  }

  private refused(reason: string, cause: RefusalCause, predictors: ActivePredictor[]): ClearanceStep {
    return { to: "drop", reason, cause, predictors };
  }

  private record: Events["emit"] = (type, data) => this.parts.record(type, data);
}
