import { isAbsolute, join, resolve } from "node:path";
import type { ResolvedPaths } from "../plugin-api.ts";
import type { Profile } from "./schema.ts";

export function expandHome(path: string, userHome: string): string {
  return path === "~" ? userHome : path.startsWith("~/") ? join(userHome, path.slice(2)) : path;
}

/** Absolute paths: `~` expanded, relative ones under the home. */
export function resolvePaths(profile: Pick<Profile, "paths" | "plugins_dir">, userHome: string): ResolvedPaths {
  const home = resolve(expandHome(profile.paths.home, userHome));
  const under = (path: string) => {
    const expanded = expandHome(path, userHome);
    return isAbsolute(expanded) ? expanded : join(home, expanded);
  };
  return {
    home,
    data: under(profile.paths.data),
    models: under(profile.paths.models),
    cache: under(profile.paths.cache),
    logs: under(profile.paths.logs),
    state: under(profile.paths.state),
    plugins: under(profile.plugins_dir),
  };
}
