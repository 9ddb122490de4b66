import { EdgetrainError } from "../errors.ts";
import {
  type Answered,
  type Asked,
  type Asker,
  type ConflictAnswer,
  type ConflictQuestion,
  conflictSummary,
  type OpenConflict,
  predictorNames,
} from "./asker.ts";
import type { Attendance } from "./attendance.ts";

/** A question on the desk: the keys waiting on it (`""` for a job without keys), each with its own answer if given. */
interface Question {
  conflict: Omit<OpenConflict, "keys" | "summary" | "answers">;
  keys: Map<string, Answered | undefined>;
  /** Job and predictor names: a key that meets the same predictors joins this question. */
  group: string;
}

const groupOf = (question: Pick<ConflictQuestion, "job" | "predictors">) =>
  JSON.stringify([question.job, predictorNames(question.predictors)]);

/**
 * The daemon's way of asking: open questions, answered over the API (or by their deadline); every attached
 * client sees the same list. The keys of a job that wait for the same predictors share one question, so 30
 * players make one question, answered for all at once or key by key. With `attendance` (a headless daemon)
 * it asks only while a client follows the conflict events, and an unanswered question comes to
 * on_unattended; without, someone is taken to answer over the API.
 */
export class ConflictDesk implements Asker {
  private readonly open = new Map<string, Question>();
  private counter = 0;
  readonly unansweredIsUnattended: boolean;

  constructor(private readonly attendance?: Attendance) {
    this.unansweredIsUnattended = attendance !== undefined;
  }

  canAnswer(): boolean {
    return this.attendance?.present() ?? true;
  }

  ask(question: ConflictQuestion): Asked {
    const group = groupOf(question);
    const joining = [...this.open.values()].find(
      (q) => q.group === group && q.conflict.answer === undefined && q.conflict.deadline > question.asked_at,
    );
    if (joining) {
      joining.keys.set(question.key ?? "", undefined);
      return { conflict: this.view(joining), joined: true };
    }
    const id = `c${Date.now().toString(36)}${(this.counter++).toString(36)}`;
    const asked: Question = { conflict: { id, ...question }, keys: new Map([[question.key ?? "", undefined]]), group };
    this.open.set(id, asked);
    return { conflict: this.view(asked), joined: false };
  }

  /** Questions some key still waits on, oldest first. */
  list(): OpenConflict[] {
    return [...this.open.values()].filter((q) => this.waiting(q)).map((q) => this.view(q));
  }

  /**
   * Answers the question for every key still waiting on it, or for `key` alone. Undefined when there is no
   * such open question; not_found for a key that does not wait on it.
   */
  answer(id: string, answer: ConflictAnswer, by: string, key?: string): OpenConflict | undefined {
    const question = this.open.get(id);
    if (!question || !this.waiting(question)) return undefined;
    if (key === undefined) {
      question.conflict.answer = answer;
      question.conflict.answered_by = by;
      return this.view(question);
    }
    if (!question.keys.has(key) || question.keys.get(key) !== undefined) {
      const waiting = this.view(question).keys;
      const message = `key ${key} does not wait on the question about job ${question.conflict.job}`;
      throw new EdgetrainError("not_found", message, {
        details: { conflict: id, key },
        hint: waiting.length ? `waiting: ${waiting.slice(0, 20).join(", ")}` : "no key waits on it any more",
      });
    }
    question.keys.set(key, { answer, by });
    return this.view(question);
  }

  outcome(id: string, now: number, key?: string): Answered | undefined {
    const question = this.open.get(id);
    if (!question) return undefined;
    const { conflict, keys } = question;
    if (conflict.answer === undefined && now >= conflict.deadline) {
      conflict.answer = conflict.default_answer;
      conflict.answered_by = "timeout";
    }
    const own = keys.get(key ?? "");
    const { answer, answered_by } = conflict;
    const toAll = answer !== undefined ? { answer, by: answered_by ?? "person" } : undefined;
    const answered = own ?? toAll;
    if (!answered) return undefined;
    keys.delete(key ?? "");
    if (keys.size === 0) this.open.delete(id);
    return answered;
  }

  withdraw(id: string, key?: string): void {
    const question = this.open.get(id);
    question?.keys.delete(key ?? "");
    if (question?.keys.size === 0) this.open.delete(id);
  }

  /** Whether a key still waits for an answer: the answer to all is not given, and some key has none of its own. */
  private waiting(question: Question): boolean {
    return question.conflict.answer === undefined && [...question.keys.values()].some((answered) => !answered);
  }

  private view(question: Question): OpenConflict {
    const keys = [...question.keys].filter(([key, answered]) => key !== "" && !answered).map(([key]) => key);
    const answered = [...question.keys].filter((entry): entry is [string, Answered] => entry[0] !== "" && !!entry[1]);
    const conflict = { ...question.conflict, keys };
    return {
      ...conflict,
      summary: conflictSummary(conflict),
      ...(answered.length ? { answers: Object.fromEntries(answered) } : {}),
    };
  }
}
