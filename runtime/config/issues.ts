import type * as v from "valibot";
import { suggestionHint } from "../errors.ts";
import { type FieldPath, formatPath } from "./field-path.ts";
import { allowedKeysAt } from "./schema-walk.ts";
import type { Position, Problem } from "./yaml-source.ts";

export type Locator = (path: FieldPath, preferKey?: boolean) => Position;

/**
 * Turns valibot issues into problems a person can act on:
 * `file:line:col  governor.sample_interval  expected a duration such as "10s", got "fast"`.
 */
export function problemsFromIssues(
  issues: ReadonlyArray<v.BaseIssue<unknown>>,
  schema: unknown,
  locate: Locator,
  prefix: FieldPath = [],
): Problem[] {
  return issues.map((issue) => {
    const relative: FieldPath = (issue.path ?? []).map((item) => item.key as string | number);
    const path = [...prefix, ...relative];
    const unknownKey = issue.type === "strict_object" && issue.expected === "never";
    const missingKey = issue.received === "undefined" && issue.kind === "schema";
    const position = locate(path, unknownKey);
    if (unknownKey) {
      const key = String(relative[relative.length - 1]);
      const known = allowedKeysAt(schema, relative.slice(0, -1));
      return {
        ...position,
        path: formatPath(path),
        message: `unknown key "${key}"`,
        hint: suggestionHint(key, known) || `known keys: ${known.join(", ")}`,
        severity: "error" as const,
      };
    }
    const expected = expectedText(issue);
    // A rule across several fields says all there is in its message; "got Object" would add nothing.
    const rule = issue.type === "check" || issue.type === "partial_check";
    return {
      ...position,
      path: formatPath(path),
      message: missingKey ? missingText(issue) : rule ? issue.message : `expected ${expected}, got ${issue.received}`,
      severity: "error" as const,
    };
  });
}

function expectedText(issue: v.BaseIssue<unknown>): string {
  // Custom messages (regex, minLength…) carry the human wording; the default ones start with "Invalid".
  if (issue.kind === "validation" && !issue.message.startsWith("Invalid")) return issue.message;
  if (issue.type === "union" && !issue.message.startsWith("Invalid")) return issue.message;
  return issue.expected ?? issue.message;
}

function missingText(issue: v.BaseIssue<unknown>): string {
  // valibot reports a missing object key with the key itself as "expected".
  const key = /^"(.*)"$/.exec(issue.expected ?? "");
  return key ? `missing required key "${key[1]}"` : `missing value: expected ${expectedText(issue)}`;
}
