import type { Answered, Asker, ConflictAnswer, ConflictQuestion, OpenConflict } from "./asker.ts";

/**
 * The daemon's way of asking: open questions, answered over the API (or by their deadline); every
 * attached client sees the same list.
 */
export class ConflictDesk implements Asker {
  private readonly open = new Map<string, OpenConflict>();
  private counter = 0;

  policyForAsk(): "ask" {
    return "ask";
  }

  ask(question: ConflictQuestion): OpenConflict {
    const id = `c${Date.now().toString(36)}${(this.counter++).toString(36)}`;
    const entry = { id, ...question };
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

  outcome(id: string, now: number): Answered | undefined {
    const conflict = this.open.get(id);
    if (!conflict) return undefined;
    if (conflict.answer === undefined && now >= conflict.deadline) {
      conflict.answer = conflict.default_answer;
      conflict.answered_by = "timeout";
    }
    if (conflict.answer === undefined) return undefined;
    this.open.delete(id);
    return { answer: conflict.answer, by: conflict.answered_by ?? "person" };
  }
}
