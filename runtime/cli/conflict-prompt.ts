import type { ConflictAnswer } from "../conflicts/conflict-desk.ts";
import type { ActivePredictor } from "../conflicts/predictors.ts";
import type { Output } from "./command.ts";

const KEYS: Record<string, ConflictAnswer> = { w: "wait", s: "skip", f: "force" };

/**
 * Asks on the terminal what to do about a live predictor, with a countdown to the default answer:
 * w(ait), s(kip) or f(orce), then Enter. Reads standard input; resolves with the default on timeout.
 */
export async function askOnTerminal(out: Output, what: string, predictors: ActivePredictor[], defaultAnswer: ConflictAnswer, timeoutMs: number): Promise<{ answer: ConflictAnswer; by: "person" | "timeout" }> {
  out.write(`\n${what} would train while a live predictor runs:\n`);
  for (const p of predictors) out.write(`  ${p.name}: ${p.found}${p.pid ? ` pid ${p.pid}` : ""}${p.command ? ` (${p.command})` : ""}${p.lockfile ? ` lock ${p.lockfile}` : ""}\n`);
  const deadline = Date.now() + timeoutMs;
  const prompt = () => `\r[w]ait, [s]kip or [f]orce? default ${defaultAnswer} in ${Math.max(0, Math.ceil((deadline - Date.now()) / 1000))}s: \x1b[K`;
  out.write(prompt());
  const ticker = setInterval(() => out.write(prompt()), 1000);
  const reader = Bun.stdin.stream().getReader();
  const decoder = new TextDecoder();
  // A timer that is cleared when a person answers: a pending one would keep the process alive.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)));
  try {
    let typed = "";
    for (;;) {
      if (deadline - Date.now() <= 0) return { answer: defaultAnswer, by: "timeout" };
      const chunk = await Promise.race([reader.read(), timeout]);
      if (!chunk) return { answer: defaultAnswer, by: "timeout" };
      if (chunk.done) return { answer: defaultAnswer, by: "timeout" };
      typed += decoder.decode(chunk.value);
      const choice = KEYS[typed.trim().toLowerCase()[0] ?? ""];
      if (choice && typed.includes("\n")) return { answer: choice, by: "person" };
      if (typed.includes("\n")) typed = "";
    }
  } finally {
    clearInterval(ticker);
    clearTimeout(timer);
    // Cancelling lets the process end: an open stdin reader would keep it alive.
    void reader.cancel().catch(() => undefined);
    out.write("\n");
  }
}
