import { resolve } from "node:path";
import { loadProfile } from "../config/load-profile.ts";
import { EdgetrainError } from "../errors.ts";
import { openState, type StateDatabase } from "../state/database.ts";
import { expandHome, resolvePaths } from "../config/paths.ts";
import { chooseProfile } from "../config/validate-profile.ts";
import { defaultHome } from "../environment.ts";
import { stringFlag, type CommandIo, type ParsedArgs } from "./command.ts";

/** The home and profile a command works on: --home/--profile, then EDGETRAIN_HOME/EDGETRAIN_PROFILE, then defaults. */
export function homeAndProfile(args: ParsedArgs, io: CommandIo): { home: string; profile: string; homeFlag?: string } {
  const homeFlag = stringFlag(args, "home");
  const home = resolve(expandHome(homeFlag ?? defaultHome(io.environment), io.environment.userHome));
  return { home, profile: chooseProfile(stringFlag(args, "profile"), io.environment, home), homeFlag: homeFlag === undefined ? undefined : home };
}

export const homeOptions = {
  profile: { type: "string", short: "p" },
  home: { type: "string" },
} as const;

/** The state database of the home the command works on (runs, decisions). */
export function openHomeState(args: ParsedArgs, io: CommandIo): StateDatabase {
  const { profile, homeFlag } = homeAndProfile(args, io);
  const loaded = loadProfile({ profile, environment: io.environment, overrides: { home: homeFlag } });
  if (!loaded.profile) throw new EdgetrainError("profile_invalid", `profile ${loaded.name} has problems: run edgetrain validate`);
  return openState(resolvePaths(loaded.profile, io.environment.userHome).state);
}
