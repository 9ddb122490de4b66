import { resolve } from "node:path";
import * as v from "valibot";
import { type LoadedProfile, loadProfile } from "../config/load-profile.ts";
import { expandHome, resolvePaths } from "../config/paths.ts";
import { formatProblem } from "../config/problems-text.ts";
import type { Profile } from "../config/schema.ts";
import { ProfileSchema } from "../config/schema.ts";
import { chooseProfile, type ResolvedProfile, resolveProfile } from "../config/validate-profile.ts";
import { defaultHome } from "../environment.ts";
import { EdgetrainError } from "../errors.ts";
import { makeHomeFolder } from "../files/make-home-folder.ts";
import type { ResolvedPaths } from "../plugin-api.ts";
import { openState, type StateDatabase } from "../state/database.ts";
import { type CommandIo, type OptionSpec, type ParsedArgs, stringFlag } from "./command.ts";
import { checkHomeFolder, homeFlag } from "./home-folder.ts";

/** The home and profile a command works on: --home/--profile, then EDGETRAIN_HOME/EDGETRAIN_PROFILE, then defaults. */
export function homeAndProfile(args: ParsedArgs, io: CommandIo): { home: string; profile: string; homeFlag?: string } {
  const flag = homeFlag(args);
  const home = resolve(expandHome(flag ?? defaultHome(io.environment), io.environment.userHome));
  checkHomeFolder(home, flag !== undefined ? "--home" : io.environment.home ? "EDGETRAIN_HOME" : "the default");
  return {
    home,
    profile: chooseProfile(stringFlag(args, "profile"), io.environment, home),
    homeFlag: flag === undefined ? undefined : home,
  };
}

export const homeOptions = {
  profile: {
    type: "string",
    short: "p",
    value: "NAME",
    description: "built-in profile name or file (default: the home's profile.yaml, else base)",
  },
  home: { type: "string", value: "DIR", description: "edgetrain home (default ~/.edgetrain, or EDGETRAIN_HOME)" },
} as const satisfies Record<string, OptionSpec>;

/**
 * The profile a command works on, loaded, and its paths. With a broken profile the paths are the home's
 * default layout, so that commands that only read (check, plugins, status…) still work.
 */
export function loadHomeProfile(
  args: ParsedArgs,
  io: CommandIo,
): { loaded: LoadedProfile; paths: ResolvedPaths; profileRef: string; homeFlag?: string } {
  const { profile: profileRef, homeFlag, home } = homeAndProfile(args, io);
  const loaded = loadProfile({ profile: profileRef, environment: io.environment, overrides: { home: homeFlag } });
  const paths = resolvePaths(loaded.profile ?? defaultLayout(home), io.environment.userHome);
  return { loaded, paths, profileRef, homeFlag };
}

/**
 * The profile of a command that works on the home's models, locks or runs: a broken profile stops it with
 * its problems, rather than letting it work on the default layout, which may be another home altogether.
 */
export function loadValidHomeProfile(
  args: ParsedArgs,
  io: CommandIo,
): ReturnType<typeof loadHomeProfile> & { loaded: { profile: Profile } } {
  const home = loadHomeProfile(args, io);
  requireValid(home.loaded);
  return home as ReturnType<typeof loadHomeProfile> & { loaded: { profile: Profile } };
}

function requireValid(loaded: LoadedProfile): void {
  if (loaded.profile) return;
  const errors = loaded.problems.filter((problem) => problem.severity === "error");
  throw new EdgetrainError("profile_invalid", `profile ${loaded.name} has ${errors.length} problem(s)`, {
    details: { problems: errors.map(formatProblem) },
    hint: "edgetrain validate lists them with where each value came from",
  });
}

function defaultLayout(home: string) {
  const defaults = v.parse(ProfileSchema, {});
  return { ...defaults, paths: { ...defaults.paths, home } };
}

/** The state database of the home the command works on (runs, decisions). */
export function openHomeState(args: ParsedArgs, io: CommandIo): StateDatabase {
  return openHomeStateAt(loadValidHomeProfile(args, io).paths);
}

/**
 * The state database of a home, for every command that opens one: a first command makes the home's state folder,
 * and a home where none can be made (under /proc, on a read-only disk) is said as such (exit 2), not a crash.
 */
export function openHomeStateAt(paths: Pick<ResolvedPaths, "home" | "state">): StateDatabase {
  makeHomeFolder(paths.home, [paths.state]);
  return openState(paths.state);
}

/**
 * The profile with its plugins, resolved and checked, for commands that train or serve: problems stop them with a list.
 */
export async function resolveHomeProfile(
  args: ParsedArgs,
  io: CommandIo,
): Promise<ResolvedProfile & { profile: Profile; paths: ResolvedPaths }> {
  const { profile, homeFlag } = homeAndProfile(args, io);
  const resolved = await resolveProfile(profile, io.environment, { home: homeFlag });
  if (!resolved.profile || !resolved.paths) {
    const errors = resolved.problems.filter((p) => p.severity === "error");
    throw new EdgetrainError("profile_invalid", `profile ${resolved.loaded.name} has ${errors.length} problem(s)`, {
      details: { problems: errors.map(formatProblem) },
    });
  }
  return resolved as ResolvedProfile & { profile: Profile; paths: ResolvedPaths };
}
