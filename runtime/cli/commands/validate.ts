import { formatProblem } from "../../config/problems-text.ts";
import { resolveProfile } from "../../config/validate-profile.ts";
import { EdgetrainError } from "../../errors.ts";
import type { Command } from "../command.ts";
import { homeAndProfile, homeOptions } from "../home.ts";
import { writeJson } from "../json-answer.ts";

export const validateCommand: Command = {
  name: "validate",
  summary: "check a profile and its plugins' options, reporting every problem at once",
  description:
    "Checks YAML syntax, every field against the profile schema, the plugins the profile names and their options. " +
    "Each problem is printed as  file:line:col  field.path  message  (hint).\n\n" +
    "Exit code 1 when anything is wrong, 0 otherwise (warnings do not fail).",
  arguments: [
    { name: "file", optional: true, description: "the profile file (default: --profile, else the home's profile)" },
  ],
  options: { json: { type: "boolean", description: "print {ok, profile, problems: [...]} as JSON" }, ...homeOptions },
  examples: ["edgetrain validate", "edgetrain validate ./profile.yaml --json"],
  async run(args, io) {
    if (args.positionals[0] !== undefined && args.values.profile !== undefined)
      throw new EdgetrainError("usage", "edgetrain validate: give the profile as FILE or as --profile, not both");
    const profile = args.positionals[0] ?? homeAndProfile(args, io).profile;
    const resolved = await resolveProfile(profile, io.environment, {});
    const errors = resolved.problems.filter((p) => p.severity === "error").length;
    const warnings = resolved.problems.length - errors;
    if (args.values.json) {
      writeJson(io, { ok: errors === 0, profile, problems: resolved.problems }, { indent: true });
    } else {
      for (const problem of resolved.problems) io.stdout.write(`${formatProblem(problem)}\n`);
      const files = resolved.loaded.files.length ? resolved.loaded.files.join(" ← ") : profile;
      io.stdout.write(
        errors === 0
          ? `ok: ${files}${warnings ? ` (${warnings} warning(s))` : ""}\n`
          : `${errors} error(s), ${warnings} warning(s) in ${files}\n`,
      );
    }
    return errors === 0 ? 0 : 1;
  },
};
