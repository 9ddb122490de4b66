import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { silentLogger } from "../../runtime/log/logger.ts";
import { openState, type StateDatabase } from "../../runtime/state/database.ts";
import { Retention, type RetentionPolicy } from "../../runtime/state/retention.ts";
import { tempDir } from "../helpers.ts";

const DAY = 24 * 3600 * 1000;
const NOW = Date.UTC(2026, 10, 23);

/** A run record with a folder holding a model, `daysAgo` days old. */
function addRun(
  state: StateDatabase,
  root: string,
  id: string,
  status: string,
  daysAgo: number,
  job = "activity",
  key: string | null = "player_1",
  dir = join(root, id),
) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "model.onnx"), "model");
  const at = NOW - daysAgo * DAY;
  state.db
    .query(
      "INSERT INTO runs (id, job, key, strategy, trigger, status, created_at, started_at, ended_at, run_dir, " +
        "details) VALUES (?, ?, ?, 'random-forest', 'manual', ?, ?, ?, ?, ?, '{}')",
    )
    .run(id, job, key, status, at, at, status === "running" ? null : at + 1000, dir);
  return dir;
}

function setUp(path: string, policy: RetentionPolicy) {
  const state = openState(join(path, "state"));
  const root = join(path, "runs");
  const retention = new Retention(
    state.db,
    root,
    () => policy,
    silentLogger,
    () => NOW,
  );
  const folder = (id: string) => existsSync(join(root, id));
  const runDir = (id: string) =>
    state.db.query<{ run_dir: string | null }, [string]>("SELECT run_dir FROM runs WHERE id = ?").get(id)?.run_dir;
  return { state, root, retention, folder, runDir };
}

describe("history retention", () => {
  test(
    "after a run, its job and key keep the newest run folders, the latest successful one and any in " + "progress",
    async () => {
      await using dir = tempDir();
      const { state, root, retention, folder, runDir } = setUp(dir.path, { run_folders: 2, keep_days: 90 });
      addRun(state, root, "r1-succeeded", "succeeded", 9);
      addRun(state, root, "r2-succeeded", "succeeded", 8);
      addRun(state, root, "r3-failed", "failed", 7);
      addRun(state, root, "r4-running", "running", 6);
      addRun(state, root, "r5-cancelled", "cancelled", 5);
      addRun(state, root, "r6-failed", "failed", 4);
      addRun(state, root, "r7-failed", "failed", 3);
      addRun(state, root, "other-key", "failed", 10, "activity", "player_2");
      retention.afterRun("activity", "player_1");
      // r2 is the latest success (warm starts and accuracy-below read its model); r4 is in progress.
      expect(
        [
          "r1-succeeded",
          "r2-succeeded",
          "r3-failed",
          "r4-running",
          "r5-cancelled",
          "r6-failed",
          "r7-failed",
          "other-key",
        ].filter(folder),
      ).toEqual(["r2-succeeded", "r4-running", "r6-failed", "r7-failed", "other-key"]);
      // The records stay, without a folder to point at.
      expect(runDir("r1-succeeded")).toBeNull();
      expect(runDir("r7-failed")).toBe(join(root, "r7-failed"));
      expect(state.db.query("SELECT id FROM runs").all()).toHaveLength(8);
      state.close();
    },
  );

  test(
    "the sweep removes records and events older than keep_days, except what a stored model or a warm start " + "needs",
    async () => {
      await using dir = tempDir();
      const { state, root, retention, folder } = setUp(dir.path, { run_folders: 5, keep_days: 30 });
      addRun(state, root, "old-failed", "failed", 40);
      addRun(state, root, "old-deployed", "succeeded", 45);
      addRun(state, root, "old-latest", "succeeded", 35, "activity", "player_3");
      addRun(state, root, "recent", "failed", 5);
      addRun(state, root, "elsewhere", "failed", 50, "activity", "player_4", join(dir.path, "not-runs", "elsewhere"));
      state.db
        .query(
          "INSERT INTO model_versions (model, version, job, key, run_id, path, sha256, status, created_at) VALUES " +
            "('activity-player_1', 1, 'activity', 'player_1', 'old-deployed', '/m', 'x', 'active', 0)",
        )
        .run();
      state.recordEvent("run.deferred", { job: "activity" }, NOW - 31 * DAY);
      state.recordEvent("model.deployed", { model: "activity-player_1" }, NOW - 29 * DAY);
      retention.sweep();
      const ids = state.db
        .query<{ id: string }, []>("SELECT id FROM runs ORDER BY id")
        .all()
        .map((row) => row.id);
      // old-deployed made version 1 of the store; old-latest is player_3's latest success.
      expect(ids).toEqual(["old-deployed", "old-latest", "recent"]);
      expect(["old-failed", "old-deployed", "old-latest", "recent"].filter(folder)).toEqual([
        "old-deployed",
        "old-latest",
        "recent",
      ]);
      // A folder outside <home>/runs is never deleted, whatever the record says.
      expect(existsSync(join(dir.path, "not-runs", "elsewhere", "model.onnx"))).toBe(true);
      expect(
        state.db
          .query<{ type: string }, []>("SELECT type FROM events")
          .all()
          .map((row) => row.type),
      ).toEqual(["model.deployed"]);
      state.close();
    },
  );
});
