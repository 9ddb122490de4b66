import { describe, expect, test } from "bun:test";
import { openState } from "../../runtime/state/database.ts";
import { interruptRunsLeftOver, runsInProgress } from "../../runtime/state/runs.ts";
import { activeVersions, modelCounts } from "../../runtime/state/served-models.ts";
import { tempDir } from "../helpers.ts";

describe("state queries", () => {
  test("runs in progress, and left-over runs marked interrupted", async () => {
    await using dir = tempDir();
    const state = openState(dir.path);
    const insert = state.db.query(
      "INSERT INTO runs (id, job, key, strategy, trigger, status, created_at, started_at) VALUES (?, 'a', ?, 's', " +
        "'t', ?, ?, ?)",
    );
    insert.run("r1", "k1", "succeeded", 1, 1);
    insert.run("r2", "k2", "running", 2, 3);
    insert.run("r3", null, "paused", 3, 2);
    insert.run("r4", "k4", "queued", 4, null);
    expect(runsInProgress(state.db).map((run) => run.id)).toEqual(["r3", "r2"]);
    expect(
      interruptRunsLeftOver(state.db, 99)
        .map((run) => run.id)
        .sort(),
    ).toEqual(["r2", "r3", "r4"]);
    expect(runsInProgress(state.db)).toEqual([]);
    expect(
      state.db
        .query<{ n: number }, []>("SELECT count(*) AS n FROM runs WHERE status = 'interrupted' AND ended_at = 99")
        .get()?.n,
    ).toBe(3);
    expect(interruptRunsLeftOver(state.db, 100)).toEqual([]);
    state.close();
  });

  test("models held and served", async () => {
    await using dir = tempDir();
    const state = openState(dir.path);
    expect(modelCounts(state.db)).toEqual({ count: 0, active: 0 });
    const version = state.db.query(
      "INSERT INTO model_versions (model, version, path, sha256, status, created_at) VALUES (?, ?, 'p', 'h', " +
        "'stored', 0)",
    );
    version.run("b", 1);
    version.run("b", 2);
    version.run("a", 1);
    const activate = "UPDATE model_versions SET status = 'active', metrics = ? WHERE model = 'b' AND version = 2";
    state.db.query(activate).run(JSON.stringify({ accuracy: 0.9 }));
    expect(modelCounts(state.db)).toEqual({ count: 2, active: 1 });
    expect(activeVersions(state.db)).toEqual([{ model: "b", version: 2, metrics: { accuracy: 0.9 } }]);
    state.close();
  });
});
