import { describe, expect, test } from "bun:test";
import { utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers.ts";
import { metadataOf, servingStack, trainedModels } from "./fixture.ts";

describe("serving readiness, known without loading", () => {
  test("a verified file that failed to load is not ready, with the load's error, until the file changes; " +
    "asking loads nothing", async () => {
    await using dir = tempDir();
    const models = await trainedModels(dir.path);
    const stack = await servingStack(join(dir.path, "home"));
    try {
      const { store, service, pool, readiness } = stack;
      await store.addVersion("activity-player_1", models.good.artifact, metadataOf(models.good));
      await store.activate("activity-player_1", 1);
      // Bytes that are no ONNX model, stored with their own sha256: whole on disk, yet they do not load.
      const garbage = join(dir.path, "garbage.onnx");
      writeFileSync(garbage, "not an onnx model");
      const broken = await store.addVersion("broken", garbage, metadataOf(models.good, "activity", "broken"));
      await store.activate("broken", 1);

      expect(await readiness.problem()).toBeUndefined();
      expect(await readiness.modelProblem("broken")).toBeUndefined();
      expect(pool.sessions().loads).toBe(0);

      const failed = await service.predict("broken", { inputs: [new Array(16).fill(1)] }).then(
        () => "answered",
        (error: Error) => error.message,
      );
      expect(failed).toContain("model broken version 1");
      const problem = await readiness.problem();
      expect(problem).toBe(failed);
      expect(await readiness.modelProblem("broken")).toBe(failed);
      expect(await readiness.modelProblem("activity-player_1")).toBeUndefined();

      // The same bytes put back (a restore from a backup): its sha256 still matches, and it may load now.
      utimesSync(broken.path, new Date(), new Date(Date.now() + 60_000));
      expect(await readiness.problem()).toBeUndefined();
      expect(pool.sessions().loads).toBe(0);
      await expect(readiness.modelProblem("nothing")).rejects.toThrow("nothing");
    } finally {
      await stack.close();
    }
  }, 60_000);
});
