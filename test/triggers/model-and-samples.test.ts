import { describe, expect, test } from "bun:test";
import modelMissing from "../../plugins/triggers/model-missing.ts";
import samplesAbove from "../../plugins/triggers/samples-above.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import type { DeployState, JobInfo, PluginModule, TriggerFire } from "../../runtime/plugin-api.ts";
import { memoryStore } from "../../runtime/plugins/context.ts";
import { instantiate } from "../../runtime/plugins/instantiate.ts";
import { registryOf } from "../../runtime/plugins/registry.ts";
import { FakeClock } from "../fake-clock.ts";
import { pathsIn, tempDir } from "../helpers.ts";

async function watch(
  plugin: PluginModule<"trigger">,
  options: Record<string, unknown>,
  root: string,
  job: JobInfo,
  clock: FakeClock,
  store = memoryStore(),
) {
  const fires: TriggerFire[] = [];
  const hooks = await instantiate("trigger", plugin.name, options, {
    plugins: registryOf([plugin]),
    logger: silentLogger,
    paths: pathsIn(root),
    clock,
    store,
    job,
  });
  const stop = hooks.watch((fire) => void fires.push(fire));
  await Bun.sleep(10);
  return { fires, stop: stop ?? (() => {}) };
}

describe("model-missing trigger", () => {
  test("fires once for keys without a model, again only after one appears and goes", async () => {
    await using dir = tempDir();
    const models: Record<string, string | undefined> = { player_1: dir.write("m1.onnx", "x"), player_2: undefined };
    const job: JobInfo = {
      name: "activity",
      keys: async () => ["player_1", "player_2", "player_3"],
      lastSuccess: (key) => (models[key!] ? { at: 1, artifact: models[key!], deploy: "done" } : undefined),
      scoreLatest: async () => undefined,
      activeVersion: () => undefined,
    };
    const clock = new FakeClock(0);
    const { fires, stop } = await watch(modelMissing, { check_every: "1m" }, dir.path, job, clock);
    expect(fires).toEqual([{ keys: ["player_2", "player_3"], reason: "no model yet for player_2, player_3" }]);
    clock.advance(60_000);
    await Bun.sleep(10);
    expect(fires).toHaveLength(1);
    models.player_2 = dir.write("m2.onnx", "x");
    clock.advance(60_000);
    await Bun.sleep(10);
    models.player_2 = "/gone/model.onnx";
    clock.advance(60_000);
    await Bun.sleep(10);
    stop();
    expect(fires.map((f) => f.keys)).toEqual([["player_2", "player_3"], ["player_2"]]);
  });

  test("counts a key whose latest run succeeded but whose model never came to serve", async () => {
    await using dir = tempDir();
    const artifact = dir.write("model.onnx", "x");
    // Each key: how far the deploy of its latest successful run got, and the version serving now.
    const keys: Record<string, { deploy?: DeployState; active?: number }> = {
      crashed_before_deploy: { deploy: "pending" },
      crashed_mid_deploy: { deploy: "in_progress" },
      deploy_failed: { deploy: "failed" },
      recorded_before_deploys: {},
      deployed: { deploy: "done", active: 1 },
      stored_without_activate: { deploy: "done" },
      refused_by_gate: { deploy: "failed", active: 1 },
      resumed_later: { deploy: "pending", active: 1 },
    };
    const job: JobInfo = {
      name: "activity",
      keys: async () => Object.keys(keys),
      lastSuccess: (key) => ({ at: 1, artifact, ...(keys[key!]!.deploy ? { deploy: keys[key!]!.deploy } : {}) }),
      activeVersion: (key) => keys[key!]!.active,
      scoreLatest: async () => undefined,
    };
    const clock = new FakeClock(0);
    const { fires, stop } = await watch(modelMissing, { check_every: "1m" }, dir.path, job, clock);
    expect(fires.map((f) => f.keys)).toEqual([
      ["crashed_before_deploy", "crashed_mid_deploy", "deploy_failed", "recorded_before_deploys"],
    ]);
    keys.crashed_mid_deploy = { deploy: "done", active: 2 };
    keys.crashed_before_deploy = { deploy: "done", active: 1 };
    clock.advance(60_000);
    await Bun.sleep(10);
    // Served, then withdrawn by a failed deploy: missing again.
    keys.crashed_before_deploy = { deploy: "failed" };
    clock.advance(60_000);
    await Bun.sleep(10);
    stop();
    expect(fires.map((f) => f.keys)).toEqual([
      ["crashed_before_deploy", "crashed_mid_deploy", "deploy_failed", "recorded_before_deploys"],
      ["crashed_before_deploy"],
    ]);
  });

  test("a key whose model serves has one, with no run on record (a rebuilt state database)", async () => {
    await using dir = tempDir();
    const serving: Record<string, number> = { player_1: 1 };
    const job: JobInfo = {
      name: "activity",
      keys: async () => ["player_1", "player_2"],
      lastSuccess: () => undefined,
      activeVersion: (key) => serving[key!],
      scoreLatest: async () => undefined,
    };
    const { fires, stop } = await watch(modelMissing, { check_every: "1m" }, dir.path, job, new FakeClock(0));
    stop();
    expect(fires).toEqual([{ keys: ["player_2"], reason: "no model yet for player_2" }]);
  });
});

describe("samples-above trigger", () => {
  test("fires for the key whose data grew by `rows` since the last fire", async () => {
    await using dir = tempDir();
    const rows = (n: number) => `a,label\n${Array.from({ length: n }, (_, i) => `${i},x`).join("\n")}\n`;
    dir.write("athletes/player_1/TR1.csv", rows(100));
    dir.write("athletes/player_2/TR1.csv", rows(100));
    const job: JobInfo = {
      name: "activity",
      data: { source: "sessions", path: "athletes" },
      keys: async () => [],
      lastSuccess: () => undefined,
      scoreLatest: async () => undefined,
      activeVersion: () => undefined,
    };
    const clock = new FakeClock(0);
    const store = memoryStore();
    const { fires, stop } = await watch(samplesAbove, { rows: 500, poll: "1m" }, dir.path, job, clock, store);
    dir.write("athletes/player_2/TR2.csv", rows(300));
    clock.advance(60_000);
    expect(fires).toEqual([]);
    dir.write("athletes/player_2/TR3.csv", rows(250));
    dir.write("athletes/player_1/TR2.csv", rows(10));
    clock.advance(60_000);
    expect(fires).toEqual([{ keys: ["player_2"], reason: "500+ rows added for player_2" }]);
    clock.advance(60_000);
    stop();
    expect(fires).toHaveLength(1);
    expect(store.get<Record<string, number>>("baseline")).toEqual({ player_1: 100, player_2: 650 });
  });
});
