import type { Key } from "ink";
import { useState } from "react";
import type { Conflict } from "../runtime/api/contract.ts";
import type { daemonClient } from "./connection.ts";

const ACTIONS: Record<string, "wait" | "skip" | "force"> = { w: "wait", s: "skip", f: "force" };

/**
 * Answering the oldest open question: w, s or f answers every key waiting on it, or the one chosen with
 * [ and ] (Esc goes back to all). Returns what the modal shows and the key handler, which says whether it
 * took the key.
 */
export function useConflictAnswer(
  conflicts: Conflict[],
  daemon: ReturnType<typeof daemonClient>,
  said: (work: Promise<unknown>, done: string) => Promise<void>,
) {
  const [chosen, setChosen] = useState<string>();
  const [sending, setSending] = useState<string>();
  const conflict = conflicts[0];
  // A key answered (or gone) leaves the choice: the next answer goes to all again.
  const selected = chosen !== undefined && conflict?.keys.includes(chosen) ? chosen : undefined;

  const handle = (input: string, key: Key): boolean => {
    if (!conflict) return false;
    const action = ACTIONS[input];
    if (action) {
      setSending(action);
      const body = { action, by: "tui", ...(selected !== undefined ? { key: selected } : {}) };
      const whom = selected !== undefined ? `${selected} of job ${conflict.job}` : `job ${conflict.job}`;
      const { api, answer } = daemon;
      const sent = answer(api.v1.conflicts({ id: conflict.id }).post(body));
      void said(sent, `answered ${action} for ${whom}`).finally(() => setSending(undefined));
      return true;
    }
    if ((input === "[" || input === "]") && conflict.keys.length > 1) {
      const { keys } = conflict;
      const step = input === "]" ? 1 : -1;
      // From the choice as it stands, not as last drawn: two keys may come before the next draw.
      setChosen((current) => {
        const at = current === undefined ? -1 : keys.indexOf(current);
        return keys[at < 0 ? (step > 0 ? 0 : keys.length - 1) : (at + step + keys.length) % keys.length];
      });
      return true;
    }
    if (key.escape && selected !== undefined) {
      setChosen(undefined);
      return true;
    }
    return false;
  };
  return { conflict, selected, sending, handle };
}
