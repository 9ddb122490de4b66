import type { ActivePredictor } from "./predictors.ts";

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

/** Open questions, answered over the API (or by their deadline); every attached client sees the same list. */
export class ConflictDesk {
  private readonly open = new Map<string, OpenConflict>();
  private counter = 0;

  ask(conflict: Omit<OpenConflict, "id">): OpenConflict {
    const id = `c${Date.now().toString(36)}${(this.counter++).toString(36)}`;
    const entry = { id, ...conflict };
    this.open.set(id, entry);
    return entry;
  }

  list(): OpenConflict[] {
    return [...this.open.values()].filter((conflict) => conflict.answer === undefined);
  }

  answer(id: string, answer: ConflictAnswer, by: string): OpenConflict | undefined {
    const conflict = this.open.get(id);
    if (!conflict || conflict.answer !== undefined) return undefined;
    conflict.answer = answer;
    conflict.answered_by = by;
    return conflict;
  }

  /** The answer if given, the default once the deadline passed, else undefined (still waiting). */
  outcome(id: string, now: number): ConflictAnswer | undefined {
    const conflict = this.open.get(id);
    if (!conflict) return undefined;
    if (conflict.answer === undefined && now >= conflict.deadline) {
      conflict.answer = conflict.default_answer;
      conflict.answered_by = "timeout";
    }
    if (conflict.answer !== undefined) this.open.delete(id);
    return conflict.answer;
  }
}
