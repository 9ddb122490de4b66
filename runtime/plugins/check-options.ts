import * as v from "valibot";
import { type FieldPath, formatPath } from "../config/field-path.ts";
import { type Locator, problemsFromIssues } from "../config/issues.ts";
import { isTree, type Tree } from "../config/merge.ts";
import type { Problem } from "../config/yaml-source.ts";
import { suggestionHint } from "../errors.ts";
import type { PluginKind } from "../plugin-api.ts";
import { KIND_WORDS, withDefaults } from "./instantiate.ts";
import type { PluginRegistry } from "./registry.ts";

/** One place in a profile where a plugin is named, with the options given to it there. */
export interface PluginUse {
  kind: PluginKind;
  name: string;
  options: Tree;
  /** Path of the field that names the plugin (`jobs.x.strategy`, `jobs.x.score`, `jobs.x.triggers[0].type`). */
  namePath: FieldPath;
  /** Path the option keys live under, for locating option problems. */
  optionsPath: FieldPath;
}

/** Every plugin a profile uses. Expects a profile that passed the profile schema. */
export function pluginUses(raw: Tree): PluginUse[] {
  const uses: PluginUse[] = [];
  const defaults = isTree(raw.defaults) && isTree(raw.defaults.strategies) ? raw.defaults.strategies : {};
  for (const [jobName, job] of Object.entries((raw.jobs ?? {}) as Record<string, Tree>)) {
    // A job trains with a strategy or scores with a score plugin (the schema allows one of the two).
    const kind = job.score !== undefined ? "score" : "strategy";
    const name = String(job[kind]);
    uses.push({
      kind,
      name,
      options: withDefaults(kind, name, (job.options ?? {}) as Tree, defaults),
      namePath: ["jobs", jobName, kind],
      optionsPath: ["jobs", jobName, "options"],
    });
    ((job.triggers ?? []) as Tree[]).forEach((trigger, index) =>
      uses.push(stepUse("trigger", trigger, ["jobs", jobName, "triggers", index])),
    );
    ((job.deploy ?? []) as Array<string | Tree>).forEach((step, index) =>
      uses.push(
        stepUse("deploy", typeof step === "string" ? { type: step } : step, ["jobs", jobName, "deploy", index]),
      ),
    );
  }
  for (const [name, options] of Object.entries((raw.converters ?? {}) as Record<string, Tree>)) {
    const path = ["converters", name];
    uses.push({ kind: "converter", name, options: options ?? {}, namePath: path, optionsPath: path });
  }
  const cache = (raw.cache ?? {}) as Tree;
  uses.push({
    kind: "cache",
    name: String(cache.type ?? "memory"),
    options: (cache.options ?? {}) as Tree,
    namePath: ["cache", "type"],
    optionsPath: ["cache", "options"],
  });
  return uses;
}

function stepUse(kind: PluginKind, step: Tree, path: FieldPath): PluginUse {
  const { type, ...options } = step;
  return { kind, name: String(type), options, namePath: [...path, "type"], optionsPath: path };
}

/** Problems with the plugins a profile names: unknown names (with the known ones) and wrong options. */
export function checkPluginOptions(raw: Tree, registry: PluginRegistry, locate: Locator): Problem[] {
  const problems: Problem[] = [];
  for (const use of pluginUses(raw)) {
    const plugin = registry.get(use.kind, use.name);
    if (!plugin) {
      const known = registry.names(use.kind);
      problems.push({
        ...locate(use.namePath),
        path: formatPath(use.namePath),
        message: `unknown ${use.kind} "${use.name}"`,
        hint: suggestionHint(
          use.name,
          known,
          `known ${KIND_WORDS[use.kind].many}: ${known.length ? known.join(", ") : "none installed"}`,
        ),
        severity: "error",
      });
      continue;
    }
    const result = v.safeParse(plugin.schema, use.options, { abortEarly: false });
    if (!result.success) problems.push(...problemsFromIssues(result.issues, plugin.schema, locate, use.optionsPath));
  }
  const defaults = (isTree(raw.defaults) && isTree(raw.defaults.strategies) ? raw.defaults.strategies : {}) as Tree;
  for (const name of Object.keys(defaults)) {
    if (registry.get("strategy", name)) continue;
    const path = ["defaults", "strategies", name];
    problems.push({
      ...locate(path, true),
      path: formatPath(path),
      message: `defaults for strategy "${name}", which is not installed`,
      hint: `known strategies: ${registry.names("strategy").join(", ") || "none installed"}`,
      severity: "warning",
    });
  }
  return problems;
}
