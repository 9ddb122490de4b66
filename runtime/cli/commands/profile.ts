import { parse as parseYaml } from "yaml";
import { loadProfile } from "../../config/load-profile.ts";
import { resolvePaths } from "../../config/paths.ts";
import { formatProblem } from "../../config/problems-text.ts";
import { renderProfile } from "../../config/render-profile.ts";
import { EdgetrainError } from "../../errors.ts";
import type { Command } from "../command.ts";
import { writeError } from "../error-output.ts";
import { homeAndProfile, homeOptions } from "../home.ts";
import { writeJson } from "../json-answer.ts";

export const profileCommand: Command = {
  name: "profile",
  summary: "show the merged profile; --resolved also says where each value came from",
  description:
    "Prints the profile after merging its extends chain, environment and defaults, as YAML. Secrets are never printed.",
  arguments: [{ name: "action", choices: ["show"], description: "show" }],
  options: {
    resolved: {
      type: "boolean",
      description:
        "comment each value with its origin (file:line, default, environment or flag) and show the paths resolved",
    },
    json: {
      type: "boolean",
      description: "print {name, files, profile} as JSON, with origins and paths when --resolved",
    },
    ...homeOptions,
  },
  examples: ["edgetrain profile show", "edgetrain profile show --resolved --profile jetson-nano"],
  async run(args, io) {
    const [sub] = args.positionals;
    if (sub !== "show")
      throw new EdgetrainError("usage", `edgetrain profile: expected "show", got ${sub ? `"${sub}"` : "nothing"}`, {
        hint: "edgetrain profile show [--resolved]",
      });
    const { profile, homeFlag } = homeAndProfile(args, io);
    const loaded = loadProfile({ profile, environment: io.environment, overrides: { home: homeFlag } });
    const resolved = Boolean(args.values.resolved);
    if (!loaded.profile) {
      const problems = loaded.problems.map(formatProblem);
      if (args.values.json)
        writeError(io, true, {
          code: "profile_invalid",
          message: `profile ${loaded.name} has problems`,
          hint: "edgetrain validate says more",
          problems,
        });
      else for (const problem of problems) io.stderr.write(`${problem}\n`);
      return 1;
    }
    if (!args.values.json) {
      io.stdout.write(renderProfile(loaded, resolved, io.environment.userHome));
      return 0;
    }
    // The rendered YAML is the one place secrets are masked: read it back rather than mask a second time.
    const shown = parseYaml(renderProfile(loaded, false, io.environment.userHome)) as unknown;
    const origins = resolved
      ? { origins: Object.fromEntries(loaded.origins), paths: resolvePaths(loaded.profile, io.environment.userHome) }
      : {};
    // Its keys are the schema's (snake_case already) and the user's own (job names): printed as they are.
    writeJson(io, { name: loaded.name, files: loaded.files, profile: shown, ...origins }, { asIs: true });
    return 0;
  },
};
