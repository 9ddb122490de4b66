import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Environment } from "../environment.ts";
import { suggestionHint } from "../errors.ts";
import type { ResolvedPaths } from "../plugin-api.ts";
import { checkPluginOptions } from "../plugins/check-options.ts";
import { loadPlugins } from "../plugins/host.ts";
import type { PluginRegistry } from "../plugins/registry.ts";
import { build } from "../version.ts";
import { formatPath } from "./field-path.ts";
import { byPosition, type LoadedProfile, loadProfile, type ProfileOverrides } from "./load-profile.ts";
import { deepFreeze } from "./merge.ts";
import { resolvePaths } from "./paths.ts";
import type { Profile } from "./schema.ts";
import type { Problem } from "./yaml-source.ts";

export interface ResolvedProfile {
  loaded: LoadedProfile;
  registry: PluginRegistry;
  /** Every problem: YAML syntax, schema, plugin loading, plugin options. */
  problems: Problem[];
  /** Present only when there is no error. */
  profile?: Profile;
  paths?: ResolvedPaths;
}

/**
 * Which profile to use: --profile, then EDGETRAIN_PROFILE, then `profile.yaml` or `demo-profile.yaml` in the
 * home, then the built-in profile of the binary's target (`base` from source and in the generic binaries).
 */
export function chooseProfile(flag: string | undefined, environment: Environment, home: string): string {
  if (flag) return flag;
  if (environment.profile) return environment.profile;
  // The demo writes its own file name, so that a demo run never overwrites a home's profile.yaml; its
  // home is still one `--home edgetrain-demo` names without --profile.
  const inHome = ["profile.yaml", "demo-profile.yaml"].map((name) => join(home, name)).find((file) => existsSync(file));
  return inHome ?? build.profile;
}

/** Loads a profile and its plugins and checks everything, reporting every problem at once. */
export async function resolveProfile(
  profile: string,
  environment: Environment,
  overrides: ProfileOverrides = {},
): Promise<ResolvedProfile> {
  const loaded = loadProfile({ profile, environment, overrides });
  const paths = loaded.profile ? resolvePaths(loaded.profile, environment.userHome) : undefined;
  const registry = await loadPlugins(paths?.plugins);
  const problems = [...loaded.problems, ...registry.problems];
  if (loaded.profile)
    problems.push(
      ...checkPluginOptions(loaded.raw, registry, loaded.locate),
      ...checkPredictorNames(loaded.profile, loaded.locate),
      ...checkModelNames(loaded.profile, loaded.locate),
    );
  problems.sort(byPosition);
  const ok = loaded.profile && !problems.some((problem) => problem.severity === "error");
  return {
    loaded,
    registry,
    problems,
    profile: ok ? deepFreeze(loaded.profile) : undefined,
    paths: ok ? paths : undefined,
  };
}

/**
 * A job's `model` names one model per key: {key} where a training job has keys (a score job may score every
 * key's rows with one model), only {key} and {job} in braces.
 */
function checkModelNames(profile: Profile, locate: LoadedProfile["locate"]): Problem[] {
  return Object.entries(profile.jobs).flatMap(([job, spec]) => {
    if (spec.model === undefined) return [];
    const data = spec.data;
    const keyed = data?.source === "sessions" || (data?.source === "rows" && (data.key_from ?? data.key_column));
    const unknown = spec.model.match(/\{[^}]*\}/g)?.find((part) => part !== "{key}" && part !== "{job}");
    const message = unknown
      ? `${unknown} is not a placeholder: a model name takes {key} and {job}`
      : keyed && spec.score === undefined && !spec.model.includes("{key}")
        ? "the job has a model per key: put {key} in the name (btc-{key}), or every key writes the same model"
        : !keyed && spec.model.includes("{key}")
          ? "the job has no keys to fill {key} with"
          : undefined;
    if (!message) return [];
    const path = ["jobs", job, "model"];
    return [{ ...locate(path), path: formatPath(path), message, severity: "error" as const }];
  });
}

/** Every name in a job's constraints.not_during must be a predictor of the conflicts section. */
function checkPredictorNames(profile: Profile, locate: LoadedProfile["locate"]): Problem[] {
  const known = profile.conflicts.predictors.map((p) => p.name);
  return Object.entries(profile.jobs).flatMap(([job, spec]) =>
    (spec.constraints.not_during ?? []).flatMap((name, index) => {
      if (known.includes(name)) return [];
      const path = ["jobs", job, "constraints", "not_during", index];
      return [
        {
          ...locate(path),
          path: formatPath(path),
          message: `unknown predictor "${name}"`,
          hint: suggestionHint(
            name,
            known,
            `predictors: ${known.join(", ") || "none (add them under conflicts.predictors)"}`,
          ),
          severity: "error" as const,
        },
      ];
    }),
  );
}
