/** Problems as text, for the CLI and the daemon's log alike: the one place a Problem becomes words. */
import type { Problem } from "./yaml-source.ts";

/** `file:line:col  path  message  (hint)` — one line per problem, as compilers print them. */
export function formatProblem(problem: Problem): string {
  const where = problem.line > 0 ? `${problem.file}:${problem.line}:${problem.column}` : problem.file;
  const severity = problem.severity === "warning" ? "warning: " : "";
  const path = problem.path ? `  ${problem.path}` : "";
  return `${where}${path}  ${severity}${problem.message}${problem.hint ? `  (${problem.hint})` : ""}`;
}
