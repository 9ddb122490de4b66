import { loadProfile } from "../../config/load-profile.ts";
import { renderProfile } from "../../config/render-profile.ts";
import { EdgetrainError } from "../../errors.ts";
import type { Command } from "../command.ts";
import { homeAndProfile, homeOptions } from "../home.ts";
import { formatProblem } from "../problems-text.ts";

export const profileCommand: Command = {
  name: "profile",
  summary: "show the merged profile; --resolved also says where each value came from",
  description: "Prints the profile after merging its extends chain, environment and defaults, as YAML. Secrets are never printed.",
  arguments: [{ name: "action", choices: ["show"], description: "show" }],
  options: {
    resolved: { type: "boolean", description: "comment each value with its origin (file:line, default, environment or flag) and show the paths resolved" },
    ...homeOptions,
  },
  examples: ["edgetrain profile show", "edgetrain profile show --resolved --profile jetson-nano"],
  async run(args, io) {
    const [sub] = args.positionals;
    if (sub !== "show") throw new EdgetrainError("usage", `edgetrain profile: expected "show", got ${sub ? `"${sub}"` : "nothing"}`, { hint: "edgetrain profile show [--resolved]" });
    const { profile, homeFlag } = homeAndProfile(args, io);
    const loaded = loadProfile({ profile, environment: io.environment, overrides: { home: homeFlag } });
    if (!loaded.profile) {
      for (const problem of loaded.problems) io.stderr.write(formatProblem(problem) + "\n");
      return 1;
    }
    io.stdout.write(renderProfile(loaded, Boolean(args.values.resolved), io.environment.userHome));
    return 0;
  },
};
