import { isLoopback } from "../api/token.ts";
import type { ProfileOverrides } from "../config/load-profile.ts";
import { formatProblem } from "../config/problems-text.ts";
import type { Profile } from "../config/schema.ts";
import { resolveProfile } from "../config/validate-profile.ts";
import type { Environment } from "../environment.ts";
import { EdgetrainError } from "../errors.ts";
import type { RunningProfile } from "./services.ts";

/**
 * The profile a daemon runs, at start and at each reload: one with errors (its plugins' included) is
 * refused whole, with the problems in the error's details, and so is one that listens unsafely.
 */
export async function runningProfile(options: {
  profile: string;
  environment: Environment;
  overrides?: ProfileOverrides;
}): Promise<RunningProfile> {
  const resolved = await resolveProfileOrThrow(options);
  refuseUnsafeBind(resolved.profile);
  return resolved;
}

async function resolveProfileOrThrow(options: {
  profile: string;
  environment: Environment;
  overrides?: ProfileOverrides;
}): Promise<RunningProfile> {
  const resolved = await resolveProfile(options.profile, options.environment, options.overrides);
  if (!resolved.profile || !resolved.paths) {
    const errors = resolved.problems.filter((problem) => problem.severity === "error");
    const pluginProblem = errors.length > 0 && errors.every((problem) => resolved.registry.problems.includes(problem));
    throw new EdgetrainError(
      pluginProblem ? "plugin_load_failed" : "profile_invalid",
      `profile ${resolved.loaded.name} has ${errors.length} problem(s); nothing was started`,
      {
        details: { problems: errors.map(formatProblem) },
        hint: "run `edgetrain validate` to see them all",
      },
    );
  }
  return resolved as RunningProfile;
}

/** The API listens beyond loopback only with a token. */
function refuseUnsafeBind(profile: Profile): void {
  if (!isLoopback(profile.api.host) && !profile.api.token) {
    throw new EdgetrainError(
      "unsafe_bind",
      `refusing to listen on ${profile.api.host}: a non-loopback address needs api.token`,
      {
        hint: "set api.token: ${EDGETRAIN_TOKEN} in the profile and export EDGETRAIN_TOKEN, or listen on 127.0.0.1",
      },
    );
  }
}
