import { describe, expect, test } from "bun:test";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { silentLogger } from "../../runtime/log/logger.ts";
import { openState } from "../../runtime/state/database.ts";
import { finishDeploy, recordDeployPending } from "../../runtime/state/deploys.ts";
import { ModelStore } from "../../runtime/store/model-store.ts";
import { tempDir } from "../helpers.ts";

const MODEL = "activity-player_1";

/** A store on a real home whose pruned versions are logged; the files' bytes only need to differ. */
function storeIn(path: string, keepVersions: number) {
  const state = openState(join(path, "state"));
  const pruned: number[] = [];
  const logger = {
    ...silentLogger,
    info: (message: string, fields?: Record<string, unknown>) => {
      if (message.startsWith("pruned ")) pruned.push(fields!.version as number);
    },
  };
  const store = new ModelStore(join(path, "models"), state.db, keepVersions, { emit() {} }, logger);
  let made = 0;
  const add = (metadata: { source?: "run" | "fleet" | "import"; run?: string } = {}) => {
    const file = join(path, `artifact-${++made}.onnx`);
    writeFileSync(file, `model ${made}`);
    return store.addVersion(MODEL, file, { job: "activity", key: "player_1", metrics: {}, ...metadata });
  };
  const onDisk = () =>
    readdirSync(join(path, "models", MODEL))
      .filter((name) => /^\d+$/.test(name))
      .map(Number)
      .sort((a, b) => a - b);
  return { state, store, pruned, add, onDisk };
}

describe("model store: keep_versions at every version added", () => {
  test("rejected candidates past keep_versions are pruned oldest first; active and rollback target stay", async () => {
    await using dir = tempDir();
    const { state, store, pruned, add, onDisk } = storeIn(dir.path, 3);
    await add();
    await store.activate(MODEL, 1);
    await add();
    await store.activate(MODEL, 2);
    for (let i = 0; i < 6; i++) {
      const candidate = await add();
      store.reject(MODEL, candidate.version, "gate: worse than the active version");
    }
    // Active 2, plus 3 others: 1 (what a rollback returns to), then the newest rejected ones.
    expect(onDisk()).toEqual([1, 2, 7, 8]);
    expect(store.versions(MODEL).map((v) => [v.version, v.status])).toEqual([
      [8, "rejected"],
      [7, "rejected"],
      [2, "active"],
      [1, "retired"],
    ]);
    expect(pruned).toEqual([3, 4, 5, 6]);
    expect((await store.rollback(MODEL, "test")).version).toBe(1);
    state.close();
  });

  test("candidates never activated (imports) are bounded too; a pile from before is pruned oldest first", async () => {
    await using dir = tempDir();
    const before = storeIn(dir.path, 10);
    for (let i = 0; i < 6; i++) await before.add({ source: "import" });
    expect(before.onDisk()).toEqual([1, 2, 3, 4, 5, 6]);
    before.state.close();

    const { state, pruned, add, onDisk, store } = storeIn(dir.path, 2);
    await add({ source: "import" });
    expect(onDisk()).toEqual([6, 7]);
    expect(pruned).toEqual([1, 2, 3, 4, 5]);
    expect(store.list()).toEqual([expect.objectContaining({ model: MODEL, versions: 2, latest: 7 })]);
    state.close();
  });

  test("kept past the limit: the newest fleet update waiting for activation, held and resumable deploys", async () => {
    await using dir = tempDir();
    const { state, store, pruned, add, onDisk } = storeIn(dir.path, 1);
    await add();
    await store.activate(MODEL, 1);
    await add();
    await store.activate(MODEL, 2);
    // Rollback target 1 fills keep_versions 1; the fleet version 3 waits for `edgetrain activate`.
    await add({ source: "fleet" });
    await add();
    expect(onDisk()).toEqual([1, 2, 3, 4]);
    await add();
    expect(pruned).toEqual([4]);

    // A deploy working on 5 keeps it while 6 is added; released, both go once a newer version comes.
    {
      using _held = store.hold(MODEL, 5);
      await add();
      expect(onDisk()).toEqual([1, 2, 3, 5, 6]);
    }
    await add();
    expect(onDisk()).toEqual([1, 2, 3, 7]);
    expect(pruned).toEqual([4, 5, 6]);

    // A deploy a crash left pending is resumed at the next start: its version stays until it is done.
    state.db
      .query("INSERT INTO runs (id, job, key, strategy, trigger, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .run("run-8", "activity", "player_1", "random-forest", "manual", "succeeded", Date.now());
    recordDeployPending(state.db, {
      run: "run-8",
      job: "activity",
      key: "player_1",
      model: MODEL,
      result: { artifact: "", metrics: {} },
    });
    await add({ source: "run", run: "run-8" });
    await add();
    expect(onDisk()).toEqual([1, 2, 3, 8, 9]);
    finishDeploy(state.db, "run-8", { state: "failed", reason: "gate" });
    // A newer fleet version replaces 3 as the one waiting; 3 goes with the others.
    await add({ source: "fleet" });
    expect(onDisk()).toEqual([1, 2, 10]);
    expect(pruned).toEqual([4, 5, 6, 7, 3, 8, 9]);
    state.close();
  });
});
