import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadOnnxRuntime } from "../../runtime/inference/onnx-runtime.ts";
import { SessionPool } from "../../runtime/inference/session-pool.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import { openState } from "../../runtime/state/database.ts";
import { ModelStore } from "../../runtime/store/model-store.ts";
import { bun, repoRoot, tempDir } from "../helpers.ts";
import { metadataOf, trainedModels } from "./fixture.ts";

const sha256 = (bytes: Uint8Array) => new Bun.CryptoHasher("sha256").update(bytes).digest("hex");

describe("model store", () => {
  test("numbered versions with metadata; the pointer switches, rolls back, and old versions are pruned", async () => {
    await using dir = tempDir();
    const models = await trainedModels(dir.path);
    const state = openState(join(dir.path, "state"));
    const store = new ModelStore(join(dir.path, "models"), state.db, 2);
    const v1 = await store.addVersion("activity-player_1", models.good.artifact, metadataOf(models.good));
    expect(v1).toMatchObject({
      version: 1,
      status: "candidate",
      job: "activity",
      key: "player_1",
      sha256: sha256(readFileSync(models.good.artifact)),
    });
    expect(v1.feature_names).toHaveLength(16);
    expect(JSON.parse(readFileSync(join(dir.path, "models/activity-player_1/1/version.json"), "utf8")).sha256).toBe(
      v1.sha256,
    );
    expect(store.activeVersion("activity-player_1")).toBeUndefined();
    await store.activate("activity-player_1", 1);
    const v2 = await store.addVersion("activity-player_1", models.newer.artifact, metadataOf(models.newer));
    expect(v2.parent).toBe(1);
    await store.activate("activity-player_1", 2);
    expect(JSON.parse(readFileSync(join(dir.path, "models/activity-player_1/active.json"), "utf8"))).toMatchObject({
      version: 2,
      previous: [1],
    });
    expect(store.versions("activity-player_1").map((v) => [v.version, v.status])).toEqual([
      [2, "active"],
      [1, "retired"],
    ]);
    expect((await store.rollback("activity-player_1", "test")).version).toBe(1);
    expect(store.version("activity-player_1", 2)).toMatchObject({ status: "rolled_back", note: "test" });
    await expect(store.rollback("activity-player_1", "again")).rejects.toThrow("no earlier version to roll back to");

    for (let i = 0; i < 3; i++)
      await store.addVersion("activity-player_1", models.weak.artifact, metadataOf(models.weak));
    // keep_versions 2, at every version added: the active version 1 and the newest two others stay.
    expect(
      readdirSync(join(dir.path, "models/activity-player_1"))
        .filter((n) => /^\d+$/.test(n))
        .sort(),
    ).toEqual(["1", "4", "5"]);
    await store.activate("activity-player_1", 5);
    expect(
      readdirSync(join(dir.path, "models/activity-player_1"))
        .filter((n) => /^\d+$/.test(n))
        .sort(),
    ).toEqual(["1", "4", "5"]);
    expect(store.versions("activity-player_1").map((v) => v.version)).toEqual([5, 4, 1]);
    expect(store.list()).toEqual([
      expect.objectContaining({ model: "activity-player_1", active: 5, versions: 3, latest: 5 }),
    ]);

    // A file changed behind the store's back is never activated.
    writeFileSync(join(dir.path, "models/activity-player_1/4/model.onnx"), "tampered");
    await expect(store.activate("activity-player_1", 4)).rejects.toThrow("does not match its sha256");
    expect(store.activeVersion("activity-player_1")).toBe(5);
    await expect(store.activate("activity-player_1", 9)).rejects.toThrow("has no version 9");
    expect(() => store.versions("../etc")).toThrow("is not a model name");
    await expect(store.addVersion("Bad/Name", models.good.artifact, metadataOf(models.good))).rejects.toThrow(
      "is not a model name",
    );
    state.close();
  }, 60_000);

  test("killed at any point while adding and activating versions, the pointer names a whole, verified version that " +
    "serves", async () => {
    await using dir = tempDir();
    const models = await trainedModels(dir.path);
    const home = join(dir.path, "home");
    const runtime = () => loadOnnxRuntime({ preference: "auto", cacheDir: join(home, "cache") });
    for (let round = 0; round < 6; round++) {
      const child = Bun.spawn(
        [bun, join(repoRoot, "test/serving/activation-loop.ts"), home, models.good.artifact, models.newer.artifact],
        { stdout: "pipe", stderr: "pipe" },
      );
      const reader = child.stdout.getReader();
      await reader.read();
      await Bun.sleep(20 + round * 37);
      child.kill("SIGKILL");
      await child.exited;
      const state = openState(join(home, "state"));
      const store = new ModelStore(join(home, "models"), state.db, 2);
      const active = store.active("activity-player_1")!;
      expect(active).toBeDefined();
      expect(existsSync(active.path)).toBe(true);
      expect(sha256(readFileSync(active.path))).toBe(active.sha256);
      const pool = new SessionPool({
        runtime,
        maxLoaded: 2,
        memoryBudgetMb: 64,
        accelerator: "cpu",
        maxBatchRows: 64,
        logger: silentLogger,
      });
      const slot = await pool.acquire(active.model, active.version, active.path);
      const outputs = await pool.run(slot, models.heldOut.x.slice(0, 16), 1);
      expect(outputs).toHaveLength(1);
      await pool.close();
      // No half-written version folder or pointer is left under its real name.
      expect(readdirSync(join(home, "models/activity-player_1")).filter((name) => name.includes("partial"))).toEqual(
        [],
      );
      state.close();
    }
  }, 120_000);
});
