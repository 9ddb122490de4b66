import * as v from "valibot";
import { Hub } from "../config/hub-schema.ts";
import { loadProfile } from "../config/load-profile.ts";
import { formatProblem } from "../config/problems-text.ts";
import type { HubConfig } from "../config/schema.ts";
import { chooseProfile } from "../config/validate-profile.ts";
import { EdgetrainError } from "../errors.ts";
import { type CommandIo, type ParsedArgs, stringFlag } from "./command.ts";

/**
 * The `hub:` section of the hub's profile: --profile, else EDGETRAIN_PROFILE, else the hub home's
 * profile.yaml, else the built-in one (whose defaults apply). Flags win over it, at the caller.
 */
export function hubProfile(args: ParsedArgs, io: CommandIo, home: string): HubConfig {
  const name = chooseProfile(stringFlag(args, "profile"), io.environment, home);
  const loaded = loadProfile({ profile: name, environment: io.environment, overrides: { home } });
  if (!loaded.profile) {
    const errors = loaded.problems.filter((problem) => problem.severity === "error");
    throw new EdgetrainError("profile_invalid", `profile ${loaded.name} has ${errors.length} problem(s)`, {
      details: { problems: errors.map(formatProblem) },
    });
  }
  return loaded.profile.hub ?? v.parse(Hub, {});
}
