import * as v from "valibot";
import { deepMerge, isTree, type Tree } from "../config/merge.ts";
import { EdgetrainError, messageOf, notFound } from "../errors.ts";
import type { HooksOf, OptionsSchema, PluginKind } from "../plugin-api.ts";
import { type ContextParts, pluginContext } from "./context.ts";
import type { PluginRegistry, RegisteredPlugin } from "./registry.ts";

/** Where a plugin is started: the plugins to find it among, the profile's defaults, and its context but the options. */
export interface PluginScope extends Omit<ContextParts, "options"> {
  plugins: PluginRegistry;
  /** The profile's `defaults.strategies`: a strategy's own options are merged over its entry there. */
  defaults?: Readonly<Record<string, unknown>>;
}

export const KIND_WORDS: Record<PluginKind, { one: string; many: string }> = {
  strategy: { one: "strategy", many: "strategies" },
  trigger: { one: "trigger", many: "triggers" },
  deploy: { one: "deploy step", many: "deploy steps" },
  cache: { one: "cache", many: "caches" },
  converter: { one: "converter", many: "converters" },
  score: { one: "score plugin", many: "score plugins" },
};

/** The options a plugin's schema sees: a strategy's own merged over the profile's defaults for it. */
export function withDefaults(
  kind: PluginKind,
  name: string,
  rawOptions: Tree,
  defaults?: Readonly<Record<string, unknown>>,
): Tree {
  const base = kind === "strategy" ? defaults?.[name] : undefined;
  return isTree(base) ? deepMerge(base, rawOptions) : rawOptions;
}

export interface CheckedOptions<K extends PluginKind> {
  plugin: RegisteredPlugin<K>;
  result: v.SafeParseResult<OptionsSchema>;
}

/**
 * Finds a plugin and checks its options without starting it, for callers that report problems their own
 * way before they commit to anything (`edgetrain fit`). Throws plugin_invalid for a plugin that is not there.
 */
export function checkOptions<K extends PluginKind>(
  kind: K,
  name: string,
  rawOptions: Tree,
  scope: Pick<PluginScope, "plugins" | "defaults">,
): CheckedOptions<K> {
  const plugin = scope.plugins.get(kind, name);
  if (!plugin) {
    const known = scope.plugins.names(kind);
    throw notFound(KIND_WORDS[kind].one, name, known, {
      code: "plugin_invalid",
      message: `unknown ${KIND_WORDS[kind].one} "${name}"`,
      hint: `known ${KIND_WORDS[kind].many}: ${known.length ? known.join(", ") : "none installed"}`,
      details: { kind, name },
    });
  }
  return {
    plugin,
    result: v.safeParse(plugin.schema, withDefaults(kind, name, rawOptions, scope.defaults), { abortEarly: false }),
  };
}

/**
 * Starts a plugin: merges the defaults, parses the options with the plugin's schema, builds its context and
 * returns its hooks, typed by kind. The one place a plugin's setup() is called: daemon, training thread,
 * `fit` and tests alike. Throws plugin_invalid for an unknown plugin or options its schema refuses.
 */
export async function instantiate<K extends PluginKind>(
  kind: K,
  name: string,
  rawOptions: Tree,
  scope: PluginScope,
): Promise<HooksOf[K]> {
  const { plugin, result } = checkOptions(kind, name, rawOptions, scope);
  if (!result.success) {
    const problems = result.issues.map((issue) => `${v.getDotPath(issue) ?? "options"}: ${issue.message}`);
    throw new EdgetrainError("plugin_invalid", `${KIND_WORDS[kind].one} "${name}": ${problems.join("; ")}`, {
      details: { kind, name, problems },
    });
  }
  const { plugins: _plugins, defaults: _defaults, ...parts } = scope;
  try {
    return await plugin.module.setup(pluginContext({ ...parts, options: result.output }));
  } catch (error) {
    // Our own errors (a cancellation read from ctx.signal) keep their code; anything else is the plugin's fault.
    if (error instanceof EdgetrainError) throw error;
    throw pluginFailed(kind, name, plugin.source, "setup", error);
  }
}

/** A plugin's own code threw (setup, or a trigger's watch): plugin_load_failed naming the plugin and its file. */
export function pluginFailed(kind: PluginKind, name: string, file: string, step: string, error: unknown) {
  return new EdgetrainError(
    "plugin_load_failed",
    `${KIND_WORDS[kind].one} "${name}" (${file}): ${step}() failed: ${messageOf(error)}`,
    {
      details: { kind, name, file },
      cause: error,
    },
  );
}
