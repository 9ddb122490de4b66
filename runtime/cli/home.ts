import { resolve } from "node:path";
import { expandHome } from "../config/paths.ts";
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
