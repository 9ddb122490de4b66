import type { Profile } from "../config/schema.ts";
import type { ActivePredictor } from "./predictors.ts";

export type ConflictPolicy = Profile["conflicts"]["policy"];
export type ConflictAnswer = "wait" | "skip" | "force";

/** A question to a person: a job met a live predictor and its policy is `ask`. */
export interface OpenConflict {
  id: string;
  job: string;
  key?: string;
  predictors: ActivePredictor[];
  asked_at: number;
  /** When the default answer applies if nobody answers. */
  deadline: number;
  default_answer: ConflictAnswer;
  answer?: ConflictAnswer;
  answered_by?: string;
}

export type ConflictQuestion = Omit<OpenConflict, "id" | "answer" | "answered_by">;

export interface Answered {
  answer: ConflictAnswer;
  /** Who answered: the API client, `person` at a terminal, or `timeout` when the default applied. */
  by: string;
}

/**
 * How the one conflict clearance (clearance.ts) puts a question to a person: the daemon's desk, answered
 * over the API; a terminal prompt (`edgetrain train`); or nobody (a headless daemon, a deploy step).
 */
export interface Asker {
  /** What `ask` comes to here: `ask` where someone can answer, otherwise the policy that stands in for it. */
  policyForAsk(conflicts: Profile["conflicts"]): ConflictPolicy;
  /** Puts the question; returns it with the id that `outcome` finds its answer by. */
  ask(question: ConflictQuestion): OpenConflict;
  /** The answer once given, or the default once the deadline passed; undefined while the question is open. */
  outcome(id: string, now: number): Answered | undefined;
}
