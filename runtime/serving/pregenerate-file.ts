import { readFileSync, statSync } from "node:fs";
import * as v from "valibot";
import { messageOf } from "../errors.ts";

const Line = v.strictObject({
  model: v.pipe(v.string("a model name"), v.minLength(1, "a model name")),
  inputs: v.pipe(
    v.array(
      v.pipe(v.array(v.number("a number"), "a row of numbers"), v.minLength(1, "a row of numbers")),
      "a list of rows",
    ),
    v.minLength(1, "at least one row"),
  ),
});

export interface PregenerateEntry {
  inputs: number[][];
  /** file:line, for the warning when the model refuses the inputs. */
  source: string;
}

/**
 * `cache.pregenerate.file` (JSON lines of `{"model", "inputs"}`), read again only when it changes, so that
 * a bad line is reported once with its file:line, not once per model and activation. A missing file is
 * reported too: a profile that names one expects it there.
 */
export class PregenerateFile {
  private stamp?: string;
  private byModel = new Map<string, PregenerateEntry[]>();

  constructor(
    private readonly file: string,
    private readonly warn: (message: string) => void,
  ) {}

  entries(model: string): PregenerateEntry[] {
    let stamp: string;
    try {
      const stats = statSync(this.file);
      stamp = `${stats.mtimeMs}:${stats.size}`;
    } catch (error) {
      stamp = "unreadable";
      if (this.stamp !== stamp) this.unreadable(error);
    }
    if (stamp !== this.stamp) {
      this.stamp = stamp;
      this.byModel = stamp === "unreadable" ? new Map() : this.parse();
    }
    return this.byModel.get(model) ?? [];
  }

  private parse(): Map<string, PregenerateEntry[]> {
    const byModel = new Map<string, PregenerateEntry[]>();
    let text: string;
    try {
      text = readFileSync(this.file, "utf8");
    } catch (error) {
      this.unreadable(error);
      return byModel;
    }
    text.split("\n").forEach((line, index) => {
      if (!line.trim()) return;
      const source = `${this.file}:${index + 1}`;
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        this.warn(`${source}: not a JSON line of {"model", "inputs"}; skipped`);
        return;
      }
      const parsed = v.safeParse(Line, json);
      if (!parsed.success) {
        this.warn(
          `${source}: ${parsed.issues.map(issueText).join(", ")}; a line is {"model": NAME, "inputs": [[numbers], ` +
            `…]}; skipped`,
        );
        return;
      }
      const { model, inputs } = parsed.output;
      byModel.set(model, [...(byModel.get(model) ?? []), { inputs, source }]);
    });
    return byModel;
  }

  private unreadable(error: unknown): void {
    this.warn(`cache.pregenerate.file: cannot read ${this.file} (${messageOf(error)}); nothing pregenerated from it`);
  }
}

/** `inputs[0][2]: a number (got "x")`; `input: unknown field`; `model: missing`. */
function issueText(issue: v.BaseIssue<unknown>): string {
  const path = (issue.path ?? [])
    .map((item) => (typeof item.key === "number" ? `[${item.key}]` : `.${String(item.key)}`))
    .join("")
    .replace(/^\./, "");
  const what =
    issue.expected === "never"
      ? "unknown field"
      : issue.received === "undefined"
        ? "missing"
        : `${issue.message} (got ${issue.received})`;
  return `${path || "the line"}: ${what}`;
}
