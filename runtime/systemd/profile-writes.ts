import { dirname } from "node:path";
import * as v from "valibot";
import { formatPath } from "../config/field-path.ts";
import type { Tree } from "../config/merge.ts";
import type { Profile } from "../config/schema.ts";
import { lockfilePath } from "../conflicts/predictors.ts";
import type { ResolvedPaths } from "../plugin-api.ts";
import { pluginUses } from "../plugins/check-options.ts";
import type { PluginRegistry } from "../plugins/registry.ts";
import type { UnitValue } from "./unit-values.ts";

/**
 * The folders a profile writes besides its paths, each with the field that names it: what its plugins say
 * they write (copy-to-dir's `dir` and `previous_dir`, a score job's `dir`) and the folders of its predictors'
 * lockfiles, where the conflict guard removes a stale one. Plugins whose options do not parse are left to
 * `edgetrain validate` and the daemon's start, which report them.
 */
export function profileWrites(
  profile: Profile,
  raw: Tree,
  registry: PluginRegistry,
  paths: ResolvedPaths,
): UnitValue[] {
  const writes: UnitValue[] = [];
  for (const use of pluginUses(raw)) {
    const plugin = registry.get(use.kind, use.name);
    if (!plugin?.module.writes) continue;
    const options = v.safeParse(plugin.schema, use.options);
    if (!options.success) continue;
    const from = formatPath(use.optionsPath);
    for (const value of plugin.module.writes(options.output, paths)) writes.push({ from, value, inProfile: true });
  }
  profile.conflicts.predictors.forEach((predictor, index) => {
    if (predictor.lockfile === undefined) return;
    const value = dirname(lockfilePath(predictor.lockfile, paths.home));
    writes.push({ from: `conflicts.predictors[${index}].lockfile`, value, inProfile: true });
  });
  return writes;
}
