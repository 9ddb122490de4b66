import {
  type Answered,
  type Asked,
  type Asker,
  type ConflictAnswer,
  type ConflictQuestion,
  openConflict,
} from "../conflicts/asker.ts";
import type { ActivePredictor } from "../conflicts/predictors.ts";
import type { Output } from "./command.ts";

const KEYS: Record<string, ConflictAnswer> = { w: "wait", s: "skip", f: "force" };

/**
 * Asks on the terminal what to do about a live predictor, with a countdown to the default answer:
 * w(ait), s(kip) or f(orce), then Enter. Reads `input`; resolves with the default on timeout.
 */
async function askOnTerminal(
  out: Output,
  what: string,
  predictors: ActivePredictor[],
  defaultAnswer: ConflictAnswer,
  timeoutMs: number,
  input: ReadableStream<Uint8Array>,
): Promise<Answered> {
  out.write(`\n${what} would train while a live predictor runs:\n`);
  for (const p of predictors) {
    const pid = p.pid ? ` pid ${p.pid}` : "";
    const seen = `${pid}${p.command ? ` (${p.command})` : ""}${p.lockfile ? ` lock ${p.lockfile}` : ""}`;
    out.write(`  ${p.name}: ${p.found}${seen}\n`);
  }
  const deadline = Date.now() + timeoutMs;
  const prompt = () =>
    `\r[w]ait, [s]kip or [f]orce? default ${defaultAnswer} in ` +
    `${Math.max(0, Math.ceil((deadline - Date.now()) / 1000))}s: \x1b[K`;
  out.write(prompt());
  const ticker = setInterval(() => out.write(prompt()), 1000);
  const reader = input.getReader();
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

/** `edgetrain train` on a terminal: the question is put on standard error and answered on standard input. */
export class TerminalAsker implements Asker {
  private readonly answers = new Map<string, Answered>();
  private counter = 0;

  /** `input` is standard input unless a test types the answer. */
  constructor(
    private readonly out: Output,
    private readonly input: () => ReadableStream<Uint8Array> = () => Bun.stdin.stream(),
  ) {}

  canAnswer(): boolean {
    return true;
  }

  ask(question: ConflictQuestion): Asked {
    const asked = openConflict(`terminal-${this.counter++}`, question);
    const what = `job ${question.job}${question.key ? ` for ${question.key}` : ""}`;
    const timeoutMs = question.deadline - question.asked_at;
    const answering = askOnTerminal(
      this.out,
      what,
      question.predictors,
      question.default_answer,
      timeoutMs,
      this.input(),
    );
    // A terminal that cannot be read is a person who does not answer.
    const unread: Answered = { answer: question.default_answer, by: "timeout" };
    void answering.catch(() => unread).then((answered) => this.answers.set(asked.id, answered));
    return { conflict: asked, joined: false };
  }

  outcome(id: string): Answered | undefined {
    return this.answers.get(id);
  }
}
