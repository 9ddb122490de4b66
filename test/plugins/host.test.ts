import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Glob } from "bun";
import { loadPlugins } from "../../runtime/plugins/host.ts";
import { repoRoot, runCli, tempDir } from "../helpers.ts";

const goodTs = `
import type { PluginContext, PluginLibraries, PluginModule, OptionsOf } from "${repoRoot}/runtime/plugin-api.ts";
const options = ({ v }: PluginLibraries) => v.strictObject({ every: v.optional(v.number(), 60) });
export default {
  kind: "trigger", name: "every-n", version: "2.1.0",
  options,
  setup: (ctx: PluginContext<OptionsOf<typeof options>>) => ({ watch: () => undefined }),
} satisfies PluginModule<"trigger", ReturnType<typeof options>>;
`;

describe("plugin host", () => {
  test("loads user plugins from plugins_dir next to the built-ins, and reports broken ones by file", async () => {
    await using dir = tempDir();
    dir.write("plugins/every-n.ts", goodTs);
    const throwing = dir.write("plugins/throws.js", "throw new Error('no GPU driver here');\n");
    const syntax = dir.write("plugins/syntax.ts", "export default {\n  kind: 'cache',\n  name: ,\n};\n");
    const shape = dir.write(
      "plugins/shape.js",
      "export default { kind: 'teleporter', name: 'x', version: '1', options: () => null, setup() {} };\n",
    );
    const duplicate = dir.write(
      "plugins/memory.js",
      "export default { kind: 'cache', name: 'memory', version: '1', options: ({ v }) => v.strictObject({}), setup() " +
        "{} };\n",
    );
    dir.write("plugins/README.md", "not a plugin");
    const registry = await loadPlugins(join(dir.path, "plugins"));

    const every = registry.get("trigger", "every-n");
    expect(every?.source).toBe(join(dir.path, "plugins/every-n.ts"));
    expect(registry.get("cache", "memory")?.source).toBe("built-in");

    const byFile = Object.fromEntries(registry.problems.map((p) => [p.file, p]));
    expect(Object.keys(byFile).sort()).toEqual([duplicate, shape, syntax, throwing].sort());
    expect(byFile[throwing]!.message).toBe("plugin failed to load: no GPU driver here");
    expect(byFile[syntax]!.message).toStartWith("plugin failed to load:");
    expect(byFile[shape]!.message).toContain("kind: expected");
    expect(byFile[duplicate]!.message).toBe('plugin cache "memory" is already provided by built-in');
  });

  test("`edgetrain plugins` lists kind, source and options, and exits 1 when one is broken", async () => {
    await using dir = tempDir();
    dir.write("home/plugins/every-n.ts", goodTs);
    const listed = await runCli(["plugins", "--home", join(dir.path, "home")], { home: dir.path });
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/trigger\s+every-n\s+2\.1\.0\s+\S+every-n\.ts\s+every/);
    expect(listed.stdout).toMatch(/cache\s+memory\s+1\.0\.0\s+built-in\s+max_entries/);
    dir.write("home/plugins/broken.js", "throw new Error('boom');\n");
    const broken = await runCli(["plugins", "--home", join(dir.path, "home")], { home: dir.path });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain("broken.js:1:11  plugin failed to load: boom");
  });

  test("the daemon refuses to start when a plugin is broken", async () => {
    await using dir = tempDir();
    dir.write("home/plugins/broken.js", "throw new Error('boom');\n");
    const run = await runCli(["run", "--home", join(dir.path, "home"), "--port", "0"], { home: dir.path });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain("nothing was started");
    expect(run.stderr).toContain("broken.js:1:11  plugin failed to load: boom");
  });

  test("a trigger whose setup() or watch() throws stops the daemon with exit 4 naming each, not 70", async () => {
    await using dir = tempDir();
    const trigger = (name: string, setup: string) =>
      `export default { kind: "trigger", name: "${name}", version: "1.0.0", options: ({ v }) => v.strictObject({}), ` +
      `setup() { ${setup} } };\n`;
    const setupFile = dir.write("home/plugins/t.js", trigger("boomtrig", 'throw new Error("setup boom");'));
    const watchFile = dir.write(
      "home/plugins/w.js",
      trigger("watchboom", 'return { watch() { throw "watch boom"; } };'),
    );
    dir.write(
      "home/profile.yaml",
      "jobs:\n  j:\n    strategy: random-forest\n    data: { source: rows, path: data/j.csv }\n" +
        "    triggers: [{ type: boomtrig }, { type: watchboom }, { type: manual }]\n",
    );
    const run = await runCli(["run", "--home", join(dir.path, "home"), "--port", "0", "--headless"], {
      home: dir.path,
    });
    expect(run.code).toBe(4);
    expect(run.stderr).not.toContain("internal error");
    expect(run.stderr).toContain(`jobs.j.triggers[0]  trigger "boomtrig" (${setupFile}): setup() failed: setup boom`);
    expect(run.stderr).toContain(`jobs.j.triggers[1]  trigger "watchboom" (${watchFile}): watch() failed: watch boom`);
  });

  // tui/ has its own, narrower rule: test/tui/imports.test.ts.
  test("built-in plugins import nothing from the runtime but types", async () => {
    const offenders: string[] = [];
    for await (const file of new Glob("plugins/**/*.{ts,tsx}").scan(repoRoot)) {
      const source = await Bun.file(join(repoRoot, file)).text();
      for (const match of source.matchAll(/^import\s+(type\s+)?[^;]*?from\s+["']([^"']+)["']/gm)) {
        const [, typeOnly, specifier] = match;
        if (specifier!.includes("/runtime/") && !typeOnly) offenders.push(`${file}: ${match[0]}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
