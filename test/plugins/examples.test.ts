import { describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { silentLogger } from "../../runtime/log/logger.ts";
import type { TriggerFire } from "../../runtime/plugin-api.ts";
import { loadPlugins } from "../../runtime/plugins/host.ts";
import { instantiate } from "../../runtime/plugins/instantiate.ts";
import { FakeClock } from "../fake-clock.ts";
import { pathsIn, repoRoot, tempDir } from "../helpers.ts";

// docs/plugins.md walks through this plugin; it must keep working as a user plugin, loaded from plugins_dir.
const example = join(repoRoot, "plugins/examples/flag-file.ts");

describe("plugins/examples/flag-file.ts, loaded as a user plugin", () => {
  test("loads from plugins_dir through the plugin host and fires for the keys in the flag file", async () => {
    await using dir = tempDir();
    const pluginsDir = join(dir.path, "plugins");
    mkdirSync(pluginsDir);
    copyFileSync(example, join(pluginsDir, "flag-file.ts"));
    const plugins = await loadPlugins(pluginsDir);
    expect(plugins.problems).toEqual([]);
    expect(plugins.get("trigger", "flag-file")?.source).toBe(join(pluginsDir, "flag-file.ts"));

    const clock = new FakeClock(Date.parse("2026-12-01T00:00:00Z"));
    const hooks = await instantiate(
      "trigger",
      "flag-file",
      { poll: "5s" },
      { plugins, logger: silentLogger, paths: pathsIn(dir.path), clock },
    );
    const fired: TriggerFire[] = [];
    const stop = hooks.watch((event) => fired.push(event));
    clock.advance(5_000);
    expect(fired).toEqual([]);

    const flag = dir.write("retrain.flag", "player_7\nplayer_2\n");
    clock.advance(5_000);
    expect(fired).toEqual([{ keys: ["player_7", "player_2"], reason: "retrain.flag asked for player_7, player_2" }]);
    expect(existsSync(flag)).toBe(false);

    dir.write("retrain.flag", "");
    clock.advance(5_000);
    expect(fired.at(-1)).toEqual({ reason: "retrain.flag asked for every key" });

    stop?.();
    dir.write("retrain.flag", "player_1\n");
    clock.advance(60_000);
    expect(fired).toHaveLength(2);
  });

  test("its options are checked by its own schema", async () => {
    await using dir = tempDir();
    mkdirSync(join(dir.path, "plugins"));
    copyFileSync(example, join(dir.path, "plugins/flag-file.ts"));
    const plugins = await loadPlugins(join(dir.path, "plugins"));
    const started = instantiate(
      "trigger",
      "flag-file",
      { poll: "soon", fiel: "x" },
      { plugins, logger: silentLogger, paths: pathsIn(dir.path) },
    );
    await expect(started).rejects.toThrow(/trigger "flag-file": poll: .*; fiel: /);
  });
});
