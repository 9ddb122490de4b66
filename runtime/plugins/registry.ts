import * as v from "valibot";
import * as yaml from "yaml";
import { Duration, durationMs } from "../config/duration.ts";
import type { Problem } from "../config/yaml-source.ts";
import { EdgetrainError, messageOf } from "../errors.ts";
import { openAtomically, writeAtomically } from "../files/write-atomically.ts";
import { diesWithEdgetrain } from "../os/parent-death.ts";
import { processGroupMembers } from "../os/process-identity.ts";
import type { OptionsSchema, PluginKind, PluginLibraries, PluginModule } from "../plugin-api.ts";

export const pluginLibraries: PluginLibraries = {
  v,
  yaml,
  duration: Duration,
  durationMs,
  processGroupMembers,
  diesWithEdgetrain,
  writeAtomically,
  openAtomically,
};

export const PLUGIN_KINDS: readonly PluginKind[] = ["strategy", "trigger", "deploy", "cache", "converter", "score"];

export interface RegisteredPlugin<K extends PluginKind = PluginKind> {
  module: PluginModule<K>;
  /** `built-in` or the file the plugin was loaded from. */
  source: string;
  schema: OptionsSchema;
}

const PluginShape = v.object({
  kind: v.picklist(PLUGIN_KINDS, `one of ${PLUGIN_KINDS.join(", ")}`),
  name: v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9._-]*$/, "a name of [a-z0-9._-]")),
  version: v.pipe(v.string(), v.minLength(1, "a version string")),
  options: v.pipe(v.function(), v.description("({ v }) => schema")),
  setup: v.function(),
  maxRuntime: v.optional(Duration),
  writes: v.optional(v.function()),
  extensions: v.optional(v.array(v.pipe(v.string(), v.regex(/^\.[a-z0-9][a-z0-9.]*$/, "an extension such as .pkl")))),
});

/** Kept by kind, so that a plugin looked up as a trigger is typed as one. */
type ByKind = { [K in PluginKind]: Map<string, RegisteredPlugin<K>> };

/** All plugins known to this daemon, by kind and name. */
export class PluginRegistry {
  private readonly byKind: ByKind = {
    strategy: new Map(),
    trigger: new Map(),
    deploy: new Map(),
    cache: new Map(),
    converter: new Map(),
    score: new Map(),
  };
  readonly problems: Problem[] = [];

  /** Checks a module's shape and options schema; any failure becomes a problem naming `source`. */
  register(candidate: unknown, source: string): RegisteredPlugin | undefined {
    const fail = (message: string, hint?: string) => {
      this.problems.push({ file: source, line: 0, column: 0, path: "", message, hint, severity: "error" });
      return undefined;
    };
    const shape = v.safeParse(PluginShape, candidate);
    if (!shape.success) {
      const details = shape.issues.map(
        (issue) => `${v.getDotPath(issue) ?? "module"}: expected ${issue.expected ?? "a value"}, got ${issue.received}`,
      );
      return fail(
        `not a valid edgetrain plugin: ${details.join("; ")}`,
        "default-export { kind, name, version, options: ({ v }) => schema, setup(ctx) }",
      );
    }
    const module = candidate as PluginModule;
    let schema: OptionsSchema;
    try {
      schema = module.options(pluginLibraries);
      if (!schema || typeof schema !== "object" || (schema as { kind?: unknown }).kind !== "schema")
        throw new Error("options() did not return a valibot schema");
    } catch (error) {
      return fail(`plugin ${module.kind} "${module.name}": ${messageOf(error)}`);
    }
    if (module.kind === "converter" && !module.extensions?.length)
      return fail(`plugin converter "${module.name}" names no extensions`, 'add extensions: [".pkl"], what it takes');
    const existing = this.get(module.kind, module.name);
    if (existing)
      return fail(
        `plugin ${module.kind} "${module.name}" is already provided by ${existing.source}`,
        "rename one of them",
      );
    return this.add({ module, source, schema });
  }

  get<K extends PluginKind>(kind: K, name: string): RegisteredPlugin<K> | undefined {
    return this.byKind[kind].get(name);
  }

  /** The converters that take files of this name's extension (`.pkl`), by name. */
  convertersFor(file: string): Array<RegisteredPlugin<"converter">> {
    const lower = file.toLowerCase();
    return [...this.byKind.converter.values()]
      .filter((plugin) => plugin.module.extensions?.some((extension) => lower.endsWith(extension)))
      .sort((a, b) => a.module.name.localeCompare(b.module.name));
  }

  names(kind: PluginKind): string[] {
    return [...this.byKind[kind].keys()].sort();
  }

  list(): RegisteredPlugin[] {
    return PLUGIN_KINDS.flatMap((kind) =>
      [...this.byKind[kind].values()].sort((a, b) => a.module.name.localeCompare(b.module.name)),
    );
  }

  private add<K extends PluginKind>(entry: RegisteredPlugin<K>): RegisteredPlugin<K> {
    this.byKind[entry.module.kind].set(entry.module.name, entry);
    return entry;
  }
}

/** A registry of just these modules (the training thread's strategy, a test's plugin); a bad one throws. */
export function registryOf(modules: readonly unknown[], source = "built-in"): PluginRegistry {
  const registry = new PluginRegistry();
  for (const module of modules) registry.register(module, source);
  const [problem] = registry.problems;
  if (problem)
    throw new EdgetrainError("plugin_invalid", problem.message, { hint: problem.hint, details: { file: source } });
  return registry;
}
