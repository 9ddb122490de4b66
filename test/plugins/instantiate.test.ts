import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Glob } from "bun";
import { EdgetrainError } from "../../runtime/errors.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import type { JobInfo, PluginContext, PluginLibraries, PluginModule } from "../../runtime/plugin-api.ts";
import { memoryStore } from "../../runtime/plugins/context.ts";
import { instantiate } from "../../runtime/plugins/instantiate.ts";
import { registryOf } from "../../runtime/plugins/registry.ts";
import { pathsIn, repoRoot } from "../helpers.ts";

const options = ({ v }: PluginLibraries) =>
  v.strictObject({
    depth: v.optional(v.number(), 4),
    params: v.optional(v.record(v.string(), v.number()), {}),
    label: v.optional(v.string(), "label"),
  });

/** Plugins that keep the context they were given, so a test sees what the host built. */
const seen: PluginContext[] = [];
const echoStrategy = {
  kind: "strategy",
  name: "echo-strategy",
  version: "1.0.0",
  options,
  setup: (context) => (seen.push(context), { train: () => Promise.reject(new Error("unused")) }),
} satisfies PluginModule<"strategy", ReturnType<typeof options>>;
const echoTrigger = {
  kind: "trigger",
  name: "echo-trigger",
  version: "1.0.0",
  options,
  setup: (context) => (seen.push(context), { watch: () => undefined }),
} satisfies PluginModule<"trigger", ReturnType<typeof options>>;
const plugins = registryOf([echoStrategy, echoTrigger], "test");
const paths = pathsIn("/tmp/edgetrain-instantiate");

describe("instantiate", () => {
  test("merges a strategy's own options over the profile's defaults, parses them and freezes them", async () => {
    const defaults = { "echo-strategy": { depth: 9, params: { a: 1, b: 2 } }, "echo-trigger": { depth: 7 } };
    const hooks = await instantiate(
      "strategy",
      "echo-strategy",
      { params: { b: 3 } },
      { plugins, defaults, logger: silentLogger, paths },
    );
    expect(typeof hooks.train).toBe("function");
    const context = seen.at(-1)!;
    expect(context.options).toEqual({ depth: 9, params: { a: 1, b: 3 }, label: "label" });
    expect(Object.isFrozen(context.options)).toBe(true);

    // Defaults are the strategies' only: a trigger of the same options gets its schema's defaults.
    await instantiate("trigger", "echo-trigger", {}, { plugins, defaults, logger: silentLogger, paths });
    expect(seen.at(-1)!.options).toEqual({ depth: 4, params: {}, label: "label" });
  });

  test("hands the scope's logger, store, signal and job to the plugin's context", async () => {
    const store = memoryStore();
    const job: JobInfo = {
      name: "activity",
      keys: async () => [],
      lastSuccess: () => undefined,
      activeVersion: () => undefined,
      scoreLatest: async () => undefined,
    };
    const signal = new AbortController().signal;
    await instantiate("trigger", "echo-trigger", {}, { plugins, logger: silentLogger, paths, store, signal, job });
    const context = seen.at(-1)!;
    expect(context.store).toBe(store);
    expect(context.signal).toBe(signal);
    expect(context.job).toBe(job);
    expect(context.paths).toEqual(paths);
  });

  test("an unknown plugin is plugin_invalid with the closest name and the known ones", async () => {
    const starting = instantiate("strategy", "echo-strategi", {}, { plugins, logger: silentLogger, paths });
    await expect(starting).rejects.toBeInstanceOf(EdgetrainError);
    await expect(starting).rejects.toMatchObject({
      code: "plugin_invalid",
      message: 'unknown strategy "echo-strategi" (did you mean "echo-strategy"?)',
      hint: "known strategies: echo-strategy",
    });
    await expect(instantiate("deploy", "gate", {}, { plugins, logger: silentLogger, paths })).rejects.toMatchObject({
      message: 'unknown deploy step "gate"',
      hint: "known deploy steps: none installed",
    });
  });

  test("options the schema refuses are plugin_invalid naming each field, and the plugin is not started", async () => {
    const before = seen.length;
    const starting = instantiate(
      "strategy",
      "echo-strategy",
      { depth: "deep", colour: "red" },
      { plugins, logger: silentLogger, paths },
    );
    await expect(starting).rejects.toMatchObject({ code: "plugin_invalid" });
    await expect(starting).rejects.toThrow(/^strategy "echo-strategy": depth: .+; colour: /);
    expect(seen.length).toBe(before);
  });
});

test(
  "instantiate() is the only caller of a plugin's setup(): daemon, training thread, CLI, scripts and " + "tests",
  async () => {
    const callers: string[] = [];
    for await (const file of new Glob("{runtime,test,scripts,tui}/**/*.{ts,tsx}").scan(repoRoot)) {
      if (file === "runtime/plugins/instantiate.ts") continue;
      const source = await Bun.file(join(repoRoot, file)).text();
      if (/\.setup\(/.test(source)) callers.push(file);
    }
    expect(callers).toEqual([]);
  },
);
