/**
 * The plugin contract. Plugins import this file with `import type` only: everything they use at run time
 * (logger, paths, state, clock, events, abort signal, progress, bundled libraries) comes through the context.
 * A compiled binary loads user plugins from disk, and such a plugin cannot import packages bundled in the
 * host, which is why even valibot is handed over (`options: ({ v }) => …`). This file therefore holds
 * types only: a value exported from here would not exist for a plugin loaded by a compiled binary.
 *
 * @example
 * ```ts
 * import type { PluginModule } from "edgetrain/runtime/plugin-api.ts";
 * export default {
 *   kind: "trigger", name: "every-minute", version: "1.0.0",
 *   options: ({ v }) => v.strictObject({ jitter: v.optional(v.number(), 0) }),
 *   setup: (ctx) => ({ watch: (fire) => { const t = ctx.clock.setInterval(() => fire({ reason: "minute" }), 60_000);
 * return () => ctx.clock.clearInterval(t); } }),
 * } satisfies PluginModule<"trigger">;
 * ```
 */
import type * as Valibot from "valibot";
import type { CacheHooks } from "./plugin-api/cache.ts";
import type { OptionsSchema, PluginContext, PluginKind, PluginLibraries, ResolvedPaths } from "./plugin-api/context.ts";
import type { ConverterHooks } from "./plugin-api/converter.ts";
import type { DeployHooks } from "./plugin-api/deploy.ts";
import type { ScoreHooks } from "./plugin-api/score.ts";
import type { StrategyHooks } from "./plugin-api/strategy.ts";
import type { TriggerHooks } from "./plugin-api/trigger.ts";

export type * from "./plugin-api/cache.ts";
// One public file; the types live in one file per plugin kind beside it.
export type * from "./plugin-api/context.ts";
export type * from "./plugin-api/converter.ts";
export type * from "./plugin-api/deploy.ts";
export type * from "./plugin-api/score.ts";
export type * from "./plugin-api/strategy.ts";
export type * from "./plugin-api/trigger.ts";

export interface HooksOf {
  strategy: StrategyHooks;
  trigger: TriggerHooks;
  deploy: DeployHooks;
  cache: CacheHooks;
  converter: ConverterHooks;
  score: ScoreHooks;
}

export interface PluginModule<K extends PluginKind = PluginKind, S extends OptionsSchema = OptionsSchema> {
  kind: K;
  /** Unique among plugins of its kind; what profiles write (`strategy: random-forest`). */
  name: string;
  version: string;
  description?: string;
  /** The schema of the plugin's options; use strict objects so misspelled keys are caught. */
  options: (libraries: PluginLibraries) => S;
  /** Strategies and score plugins: how long a run may take when its job sets no `max_runtime` (`"24h"`); default 2h. */
  maxRuntime?: string | number;
  /** Converters: the file extensions they convert, lower case with the dot (`[".pkl", ".joblib"]`). */
  extensions?: string[];
  /**
   * Folders the plugin writes outside the profile's paths, given its options (copy-to-dir's `dir`): a system
   * service opens them for writing in its sandbox. Asked of built-in plugins only: `service install` runs as
   * root and loads no plugin from disk.
   */
  writes?: (options: Valibot.InferOutput<S>, paths: Readonly<ResolvedPaths>) => string[];
  setup(context: PluginContext<Valibot.InferOutput<S>>): HooksOf[K] | Promise<HooksOf[K]>;
}

/** The options type of a plugin's `options` schema factory: `PluginContext<OptionsOf<typeof options>>`. */
export type OptionsOf<F extends (libraries: PluginLibraries) => OptionsSchema> = Valibot.InferOutput<ReturnType<F>>;
