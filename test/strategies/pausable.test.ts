import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import incrementalNn from "../../plugins/strategies/incremental-nn/index.ts";
import randomForest from "../../plugins/strategies/random-forest/index.ts";
import type { PluginModule } from "../../runtime/plugin-api.ts";
import { repoRoot, tempDir } from "../helpers.ts";
import { trainInProcess } from "./harness.ts";

const wine = {
  train: [join(repoRoot, "test/fixtures/real/wine-train.csv")],
  test: [join(repoRoot, "test/fixtures/real/wine-test.csv")],
};
const strategies: Array<[string, PluginModule<"strategy">, Record<string, unknown>, number]> = [
  ["random-forest", randomForest, { n_estimators: 20, n_jobs: 2 }, 20],
  ["incremental-nn", incrementalNn, { epochs: 12 }, 12],
];

describe.each(strategies)("%s is pausable and bounded", (name, plugin, options, units) => {
  test("reports progress per tree or epoch and calls checkpoint() between them", async () => {
    await using dir = tempDir();
    const run = await trainInProcess(plugin, options, wine, dir.path);
    expect(run.error).toBeUndefined();
    expect(run.checkpoints).toBeGreaterThanOrEqual(units);
    expect(run.progress.at(-1)).toMatchObject({ done: units, total: units });
    if (name === "incremental-nn") expect(run.progress[0]!.message).toMatch(/^epoch 1\/12 loss \d+\.\d{4}$/);
    expect(run.runDirFiles).toEqual(["model.onnx"]);
  });

  test("a cancelled run stops between units and leaves no model, not even half of one", async () => {
    await using dir = tempDir();
    const run = await trainInProcess(plugin, options, wine, dir.path, { abortAfterCheckpoints: 3 });
    expect(run.error?.message).toContain("run cancelled: cancelled by test");
    expect(run.progress.length).toBeLessThan(units);
    expect(run.runDirFiles).toEqual([]);
  });
});
