import type { Profile } from "../config/schema.ts";
import type { ActivePredictor } from "./predictors.ts";

export type ConflictPolicy = Profile["conflicts"]["policy"];
export type ConflictAnswer = "wait" | "skip" | "force";

export interface Answered {
  answer: ConflictAnswer;
  /** Who answered: the API client, `person` at a terminal, or `timeout` when the default applied. */
  by: string;
}

/**
 * A question to a person: a job met live predictors and its policy is `ask`. One question covers every key
 * of the job that waits on the same predictors; each key may still be answered on its own.
 */
export interface OpenConflict {
  id: string;
  job: string;
  /** The first key that asked: what a client that knows one key per question shows. */
  key?: string;
  /** The keys still waiting for an answer, in the order they asked; empty for a job without keys. */
  keys: string[];
  /** What a key is to the job (its `key` setting, `player`): `30 players of job activity wait for …`. */
  key_name?: string;
  /** The question in a line: `30 players of job activity wait for player-dashboard`. */
  summary: string;
  predictors: ActivePredictor[];
  asked_at: number;
  /** When the default answer applies if nobody answers. */
  deadline: number;
  default_answer: ConflictAnswer;
  answer?: ConflictAnswer;
  answered_by?: string;
  /** Keys answered on their own, by key: they no longer wait for the answer to all. */
  answers?: Record<string, Answered>;
}

/** What the clearance asks: one job and key, the predictors in its way, the deadline and the default. */
export type ConflictQuestion = Pick<
  OpenConflict,
  "job" | "key" | "key_name" | "predictors" | "asked_at" | "deadline" | "default_answer"
>;

/** The question a key waits on: a new one, or one it joined because it covers the same job and predictors. */
export interface Asked {
  conflict: OpenConflict;
  joined: boolean;
}

/**
 * How the one conflict clearance (clearance.ts) puts a question to a person: the daemon's desk, answered
 * over the API; a terminal prompt (`edgetrain train`); or nobody (a headless daemon, a deploy step).
 */
export interface Asker {
  /** Whether someone can answer now; where nobody can, `ask` comes to conflicts.on_unattended. */
  canAnswer(): boolean;
  /**
   * A question nobody answers in time comes to on_unattended rather than ask_default: a headless daemon
   * asks the clients attached, but whoever might have answered was not looking.
   */
  readonly unansweredIsUnattended?: boolean;
  /** Puts the question, or adds the key to the open one for the same job and predictors. */
  ask(question: ConflictQuestion): Asked;
  /**
   * The answer for `key` (the key's own, else the one to all) once given, or the default once the deadline
   * passed; undefined while the question is open.
   */
  outcome(id: string, now: number, key?: string): Answered | undefined;
  /** `key` waits on the question no more (a person forced its job past the predictors); a question left empty goes. */
  withdraw?(id: string, key?: string): void;
}

/** The names of the predictors a question is about, each once, in a stable order: what questions are grouped by. */
export function predictorNames(predictors: readonly ActivePredictor[]): string[] {
  return [...new Set(predictors.map((p) => p.name))].sort();
}

/** `30 players of job activity wait for player-dashboard`, `job activity for player_1 waits for live`. */
export function conflictSummary(conflict: Pick<OpenConflict, "job" | "keys" | "key_name" | "predictors">): string {
  const names = predictorNames(conflict.predictors).join(" and ");
  const { keys, job } = conflict;
  if (keys.length === 0) return `job ${job} waits for ${names}`;
  if (keys.length === 1) return `job ${job} for ${keys[0]} waits for ${names}`;
  return `${keys.length} ${conflict.key_name ?? "key"}s of job ${job} wait for ${names}`;
}

/** A question as asked of one key, with the fields worked out from it. */
export function openConflict(id: string, question: ConflictQuestion): OpenConflict {
  const keys = question.key !== undefined ? [question.key] : [];
  return { id, ...question, keys, summary: conflictSummary({ ...question, keys }) };
}
