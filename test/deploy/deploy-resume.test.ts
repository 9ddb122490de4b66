import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CRASH_POINTS, type CrashPoint } from "../../runtime/deploy/crash-points.ts";
import { resumeDeploys } from "../../runtime/deploy/deploy-resume.ts";
import { Deployer } from "../../runtime/deploy/deployer.ts";
import type { TrainResult } from "../../runtime/plugin-api.ts";
import { openState } from "../../runtime/state/database.ts";
import { recordDeployPending } from "../../runtime/state/deploys.ts";
import {
  bun,
  cli,
  type LoggedLine,
  recordingLogger,
  walkRunSession as session,
  startDaemonProcess,
  type TempDir,
  tempDir,
  waitUntil,
} from "../helpers.ts";
import { servingStack, trainedModels } from "../serving/fixture.ts";

const TOKEN = "deploy-resume-token-0123456789";
const KEYS = ["player_1", "player_2"];

/**
 * Two keys of a tiny forest job; model-missing checks once an hour, so a model that serves after a
 * restart did so on the check at start, not on a later one.
 */
function writeHome(dir: TempDir): string {
  const home = join(dir.path, "home");
  for (const player of KEYS)
    for (let n = 1; n <= 3; n++) dir.write(`home/data/athletes/${player}/TR${n}_x.csv`, session(40, n));
  dir.write(
    "home/profile.yaml",
    `paths:\n  home: ${home}\napi:\n  token: \${EDGETRAIN_TOKEN}\ngovernor:\n  sample_interval: 200ms\n  ` +
      `max_cpu_before: 100\n  max_memory_before: 100\n  pause_cpu: 100\n  pause_memory: 100\njobs:\n  activity:\n    ` +
      `strategy: random-forest\n    options: { n_estimators: 5 }\n    data: { source: sessions, path: athletes, ` +
      `debounce: 0 }\n    triggers: [{ type: model-missing, check_every: 1h }]\n`,
  );
  return home;
}

const env = (extra: Record<string, string> = {}) => ({ EDGETRAIN_TOKEN: TOKEN, ...extra });

async function predicts(url: string, key: string): Promise<boolean> {
  const response = await fetch(`${url}/v1/predict/activity-${key}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ inputs: [[50, 2]] }),
  });
  return response.status === 200;
}

/** What the state database says of the run a crash cut short, and of its model. */
function afterCrash(home: string) {
  const state = openState(join(home, "state"));
  try {
    const runs = state.db
      .query<{ id: string; key: string; deploy: string | null }, []>(
        "SELECT r.id, r.key, d.state AS deploy FROM runs AS r LEFT JOIN deploys AS d ON d.run_id = r.id WHERE " +
          "r.status = 'succeeded'",
      )
      .all();
    const versions = state.db
      .query<{ model: string; version: number; status: string }, []>(
        "SELECT model, version, status FROM model_versions ORDER BY model, version",
      )
      .all();
    const runsPerKey = state.db
      .query<{ key: string; runs: number }, []>("SELECT key, count(*) AS runs FROM runs GROUP BY key ORDER BY key")
      .all();
    return { runs, versions, runsPerKey };
  } finally {
    state.close();
  }
}

describe("a deploy cut short by a crash is resumed at the next start", () => {
  for (const point of CRASH_POINTS) {
    test(`SIGKILL at ${point}: after a restart every model serves, the crashed run's model from its own ` +
      `run`, async () => {
      await using dir = tempDir();
      const home = writeHome(dir);
      const crashing = await startDaemonProcess(
        home,
        ["--home", home, "--headless"],
        env({ EDGETRAIN_CRASH_AT: point }),
      );
      await crashing.proc.exited;
      expect(crashing.proc.signalCode).toBe("SIGKILL");
      const crashed = afterCrash(home);
      expect(crashed.runs).toHaveLength(1);
      const run = crashed.runs[0]!;
      expect(run.deploy).toBe(point === "after-run-recorded" ? "pending" : "in_progress");

      const { proc, url } = await startDaemonProcess(home, ["--home", home, "--headless"], env());
      try {
        await waitUntil(async () => (await Promise.all(KEYS.map((key) => predicts(url, key)))).every(Boolean), 30_000);
      } finally {
        proc.kill("SIGTERM");
        await proc.exited;
      }
      const log = readFileSync(join(home, "logs/edgetrain.log"), "utf8");
      expect(log).toContain(`resuming the deploy of run ${run.id} (job activity, key ${run.key}) left by a crash`);
      const after = afterCrash(home);
      expect(after.runs.find((r) => r.id === run.id)?.deploy).toBe("done");
      // Resumed, not retrained: the crashed key has its one run, and its model one version, added once.
      expect(after.runsPerKey).toEqual(KEYS.map((key) => ({ key, runs: 1 })));
      expect(after.versions).toEqual(KEYS.map((key) => ({ model: `activity-${key}`, version: 1, status: "active" })));
    }, 90_000);
  }

  test("edgetrain train resumes a deploy its own crash left, before it trains", async () => {
    await using dir = tempDir();
    const home = writeHome(dir);
    const train = (key: string, extra: Record<string, string> = {}) =>
      Bun.spawn([bun, cli, "train", "activity", "--key", key, "--force", "--home", home], {
        env: { PATH: process.env.PATH, HOME: home, NO_COLOR: "1", ...env(extra) },
        stdout: "pipe",
        stderr: "pipe",
      });
    const crashing = train("player_1", { EDGETRAIN_CRASH_AT: "before-activate" satisfies CrashPoint });
    await crashing.exited;
    expect(crashing.signalCode).toBe("SIGKILL");
    const crashedRun = afterCrash(home).runs[0]!;
    const next = train("player_2");
    const [stderr, code] = await Promise.all([new Response(next.stderr).text(), next.exited]);
    expect(code).toBe(0);
    expect(stderr).toContain(
      `resuming the deploy of run ${crashedRun.id} (job activity, key player_1) left by a crash`,
    );
    const after = afterCrash(home);
    expect(after.runs.map((r) => r.deploy)).toEqual(["done", "done"]);
    expect(after.versions).toEqual(KEYS.map((key) => ({ model: `activity-${key}`, version: 1, status: "active" })));
  }, 90_000);
});

describe("resuming deploys (in process, real store and state)", () => {
  test("in the order runs ended: a superseded run is closed, a gone model file fails, the newest is deployed with " +
    "its held-out rows read again", async () => {
    await using dir = tempDir();
    const home = dir.path;
    const models = await trainedModels(home);
    const stack = await servingStack(home, {
      paths: { data: home },
      jobs: {
        activity: {
          strategy: "random-forest",
          data: { source: "sessions", path: "athletes", debounce: 0 },
          deploy: ["gate", "activate"],
        },
      },
    });
    try {
      const lines: LoggedLine[] = [];
      const logger = recordingLogger(lines);
      const deployer = new Deployer({ ...stack, logger, events: stack.bus });
      const left = (run: string, key: string, endedAt: number, result: TrainResult) => {
        stack.state.db
          .query(
            "INSERT INTO runs (id, job, key, strategy, trigger, status, created_at, started_at, ended_at, details) " +
              "VALUES (?, 'activity', ?, 'random-forest', 'cron', 'succeeded', ?, ?, ?, '{}')",
          )
          .run(run, key, endedAt - 10, endedAt - 10, endedAt);
        recordDeployPending(stack.state.db, { run, job: "activity", key, model: `activity-${key}`, result });
      };
      left("run-old", "player_1", Date.now() - 3000, models.good);
      left("run-gone", "player_2", Date.now() - 2000, { ...models.good, artifact: join(home, "gone/model.onnx") });
      left("run-new", "player_1", Date.now() - 1000, models.newer);
      await resumeDeploys({ deployer, profile: stack.profile, paths: stack.paths, state: stack.state, logger });
      const deploys = stack.state.db
        .query<{ run_id: string; state: string; reason: string | null; version: number | null }, []>(
          "SELECT run_id, state, reason, version FROM deploys ORDER BY run_id",
        )
        .all();
      expect(deploys).toEqual([
        {
          run_id: "run-gone",
          state: "failed",
          reason: `its model file ${join(home, "gone/model.onnx")} is gone and the store has no version of it`,
          version: null,
        },
        { run_id: "run-new", state: "done", reason: null, version: 1 },
        { run_id: "run-old", state: "failed", reason: "superseded by run run-new", version: null },
      ]);
      expect(stack.store.versions("activity-player_1").map((v) => [v.version, v.run, v.status])).toEqual([
        [1, "run-new", "active"],
      ]);
      // The gate scored the candidate on the run's held-out session, read again from the data folder.
      expect(stack.store.version("activity-player_1", 1)!.gate).toMatchObject({
        passed: true,
        rows: models.heldOut.rows,
      });
      expect(lines.filter((line) => line.level === "warn").map((line) => line.message)).toEqual([
        "resuming the deploy of run run-gone (job activity, key player_2) left by a crash",
        `the deploy of run run-gone cannot be resumed: its model file ${join(home, "gone/model.onnx")} is gone and ` +
          `the store has no version of it; model activity-player_2 gets no version from it`,
        "resuming the deploy of run run-new (job activity, key player_1) left by a crash",
      ]);
      expect(
        JSON.parse(
          stack.state.db.query<{ details: string }, []>("SELECT details FROM runs WHERE id = 'run-new'").get()!.details,
        ).deployment,
      ).toMatchObject({ model: "activity-player_1", version: 1, status: "activated" });
    } finally {
      await stack.close();
    }
  }, 60_000);

  test("a deploy stopped by edgetrain stopping stays in progress, and is finished at the next start without adding " +
    "its version twice", async () => {
    await using dir = tempDir();
    const home = dir.path;
    const models = await trainedModels(home);
    const stack = await servingStack(home, {
      paths: { data: home },
      jobs: {
        activity: {
          strategy: "random-forest",
          data: { source: "sessions", path: "athletes", debounce: 0 },
          deploy: ["gate", "activate"],
        },
      },
    });
    try {
      const lines: LoggedLine[] = [];
      const logger = recordingLogger(lines);
      const deployer = new Deployer({ ...stack, logger, events: stack.bus });
      stack.state.db
        .query(
          "INSERT INTO runs (id, job, key, strategy, trigger, status, created_at, started_at, ended_at, details) " +
            "VALUES ('run-1', 'activity', 'player_1', 'random-forest', 'cron', 'succeeded', 1, 1, 2, '{}')",
        )
        .run();
      recordDeployPending(stack.state.db, {
        run: "run-1",
        job: "activity",
        key: "player_1",
        model: "activity-player_1",
        result: models.good,
      });
      const stopping = new AbortController();
      stopping.abort("edgetrain is stopping");
      const cut = await deployer.deploy({
        job: "activity",
        key: "player_1",
        spec: stack.profile.jobs.activity!,
        run: "run-1",
        result: models.good,
        heldOut: models.heldOut,
        logger,
        signal: stopping.signal,
      });
      expect(cut).toMatchObject({ version: 1, status: "stored", steps: [] });
      const state = () =>
        stack.state.db.query<{ state: string }, []>("SELECT state FROM deploys WHERE run_id = 'run-1'").get()!.state;
      expect(state()).toBe("in_progress");
      await resumeDeploys({ deployer, profile: stack.profile, paths: stack.paths, state: stack.state, logger });
      expect(state()).toBe("done");
      expect(stack.store.versions("activity-player_1").map((v) => [v.version, v.status])).toEqual([[1, "active"]]);
      expect(lines.map((line) => line.message)).toContain(
        "model activity-player_1 version 1 of run run-1 is in the store already; not added again",
      );
    } finally {
      await stack.close();
    }
  }, 60_000);
});
