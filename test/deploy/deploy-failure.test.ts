import { describe, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { isEnvironmental } from "../../runtime/deploy/deploy-failure.ts";
import { writeFailure } from "../../runtime/files/write-failure.ts";
import { openState } from "../../runtime/state/database.ts";
import { runCli, walkRunSession as session, startDaemonProcess, type TempDir, tempDir, waitUntil } from "../helpers.ts";

const TOKEN = "deploy-failure-token-0123456789";
const KEYS = ["player_1", "player_2"];

/**
 * A tiny forest job whose player_1 model cannot be stored: a regular file stands where its model folder goes, so
 * the store's mkdir fails as EACCES would for a non-root user (tests run as root, where chmod blocks nothing).
 */
function writeHome(dir: TempDir): { home: string; blocker: string } {
  const home = join(dir.path, "home");
  for (const player of KEYS)
    for (let n = 1; n <= 3; n++) dir.write(`home/data/athletes/${player}/TR${n}_x.csv`, session(40, n));
  dir.write(
    "home/profile.yaml",
    `paths:\n  home: ${home}\napi:\n  token: \${EDGETRAIN_TOKEN}\ngovernor:\n  sample_interval: 200ms\n  ` +
      `max_cpu_before: 100\n  max_memory_before: 100\n  pause_cpu: 100\n  pause_memory: 100\njobs:\n  activity:\n    ` +
      `strategy: random-forest\n    options: { n_estimators: 5 }\n    data: { source: sessions, path: athletes, ` +
      `debounce: 0 }\n`,
  );
  dir.write("home/models/activity-player_1", "not a folder\n");
  return { home, blocker: join(home, "models/activity-player_1") };
}

const env = { EDGETRAIN_TOKEN: TOKEN };

/** The deploys table, the model.deployed events recorded, and the run records' deployments. */
function recorded(home: string) {
  const state = openState(join(home, "state"));
  try {
    const deploys = state.db
      .query<{ run: string; key: string; state: string; reason: string | null }, []>(
        "SELECT d.run_id AS run, d.key, d.state, d.reason FROM deploys AS d JOIN runs AS r ON r.id = d.run_id " +
          "ORDER BY r.ended_at",
      )
      .all();
    const events = state.db
      .query<{ data: string }, []>("SELECT data FROM events WHERE type = 'model.deployed' ORDER BY id")
      .all()
      .map((row) => JSON.parse(row.data) as Record<string, unknown>);
    const versions = state.db
      .query<{ model: string; version: number; status: string }, []>(
        "SELECT model, version, status FROM model_versions ORDER BY model, version",
      )
      .all();
    return { deploys, events, versions };
  } finally {
    state.close();
  }
}

const FAILED = {
  model: "activity-player_1",
  status: "failed",
  retry_at_start: true,
  message: expect.stringMatching(/^could not store the model: (EEXIST|ENOTDIR)\b/),
  steps: [],
};

describe("a deploy that breaks on the machine is recorded with its run and tried again at the next start", () => {
  test("edgetrain train: its output, edgetrain runs, the run's record and the event say failed and why; the next " +
    "edgetrain train deploys it once the cause is gone", async () => {
    await using dir = tempDir();
    const { home, blocker } = writeHome(dir);
    const edgetrain = (...args: string[]) => runCli([...args, "--home", home], { home, env });
    const broken = await edgetrain("train", "activity", "--key", "player_1", "--force");
    expect(broken.code).toBe(0);
    expect(broken.stdout).toMatch(
      new RegExp(
        "^player_1: succeeded, .*; model activity-player_1 failed \\(could not store the model: (EEXIST|ENOTDIR).*; " +
          "tried again at the next start\\) {2}\\(run ",
      ),
    );
    const runs = await edgetrain("runs");
    expect(runs.stdout).toContain("model activity-player_1 failed (could not store the model: ");
    const listed = JSON.parse((await edgetrain("runs", "--json")).stdout) as Array<{ id: string }>;
    const run = listed[0]!.id;
    const state = openState(join(home, "state"));
    try {
      const details = state.db.query<{ details: string }, [string]>("SELECT details FROM runs WHERE id = ?").get(run);
      expect(JSON.parse(details!.details).deployment).toEqual(FAILED);
    } finally {
      state.close();
    }
    const before = recorded(home);
    expect(before.deploys).toEqual([{ run, key: "player_1", state: "pending", reason: FAILED.message }]);
    expect(before.events).toEqual([FAILED]);
    expect(before.versions).toEqual([]);

    rmSync(blocker);
    const next = await edgetrain("train", "activity", "--key", "player_2");
    expect(next.code).toBe(0);
    expect(next.stderr).toContain(
      `resuming the deploy of run ${run} (job activity, key player_1) that failed on this machine (could not store`,
    );
    const after = recorded(home);
    expect(after.deploys.map((d) => [d.key, d.state, d.reason])).toEqual([
      ["player_1", "done", null],
      ["player_2", "done", null],
    ]);
    expect(after.versions).toEqual(KEYS.map((key) => ({ model: `activity-${key}`, version: 1, status: "active" })));
    expect((await edgetrain("runs")).stdout).not.toContain("failed (");
  }, 90_000);

  test("the daemon: GET /v1/runs/:id and the model.deployed event carry the failure; a restart deploys it once the " +
    "cause is gone", async () => {
    await using dir = tempDir();
    const { home, blocker } = writeHome(dir);
    const headers = { "content-type": "application/json", authorization: `Bearer ${TOKEN}` };
    let daemon = await startDaemonProcess(home, ["--home", home, "--headless"], env);
    let run: string;
    try {
      const stream = await fetch(`${daemon.url}/v1/events?types=model.deployed`, { headers });
      const reader = stream.body!.getReader();
      const queued = await fetch(`${daemon.url}/v1/jobs/activity/run`, {
        method: "POST",
        headers,
        body: JSON.stringify({ key: "player_1", force: true }),
      });
      expect(queued.status).toBe(202);
      let text = "";
      while (!text.includes("event: model.deployed")) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      await reader.cancel();
      const data = text.split("\n").find((line) => line.startsWith("data: "));
      expect(JSON.parse(data!.slice(6))).toMatchObject(FAILED);
      type Listed = { runs: Array<{ id: string; status: string }> };
      let detail: { status: string; details: { deployment?: unknown } } | undefined;
      await waitUntil(async () => {
        const listed = (await (await fetch(`${daemon.url}/v1/runs?job=activity`, { headers })).json()) as Listed;
        run = listed.runs[0]?.id ?? "";
        if (!run) return false;
        detail = (await (await fetch(`${daemon.url}/v1/runs/${run}`, { headers })).json()) as typeof detail;
        return detail?.details.deployment !== undefined;
      }, 30_000);
      expect(detail!.status).toBe("succeeded");
      expect(detail!.details.deployment).toEqual(FAILED);
    } finally {
      daemon.proc.kill("SIGTERM");
      await daemon.proc.exited;
    }
    expect(recorded(home).deploys).toEqual([{ run: run!, key: "player_1", state: "pending", reason: FAILED.message }]);

    rmSync(blocker);
    daemon = await startDaemonProcess(home, ["--home", home, "--headless"], env);
    try {
      await waitUntil(async () => {
        const response = await fetch(`${daemon.url}/v1/predict/activity-player_1`, {
          method: "POST",
          headers,
          body: JSON.stringify({ inputs: [[50, 2]] }),
        });
        return response.status === 200;
      }, 30_000);
      const record = (await (await fetch(`${daemon.url}/v1/runs/${run!}`, { headers })).json()) as {
        details: { deployment?: unknown };
      };
      expect(record.details.deployment).toMatchObject({ model: "activity-player_1", version: 1, status: "activated" });
    } finally {
      daemon.proc.kill("SIGTERM");
      await daemon.proc.exited;
    }
    const log = readFileSync(join(home, "logs/edgetrain.log"), "utf8");
    expect(log).toContain(
      `resuming the deploy of run ${run!} (job activity, key player_1) that failed on this machine`,
    );
    expect(recorded(home).deploys).toEqual([{ run: run!, key: "player_1", state: "done", reason: null }]);
  }, 90_000);
});

describe("isEnvironmental", () => {
  test("an error of the operating system, itself or wrapped, is; a plain error or a refusal is not", async () => {
    await using dir = tempDir();
    dir.write("file", "x");
    const system = await mkdir(join(dir.path, "file", "sub")).catch((error: unknown) => error);
    expect(isEnvironmental(system)).toBe(true);
    expect(isEnvironmental(writeFailure("/x/model.onnx", system))).toBe(true);
    expect(isEnvironmental(new Error("wrapped", { cause: system }))).toBe(true);
    expect(isEnvironmental(new Error("database or disk is full"))).toBe(true);
    expect(isEnvironmental(new Error("the model does not load: bad opset"))).toBe(false);
    expect(isEnvironmental(Object.assign(new Error("coded"), { code: "plugin_invalid" }))).toBe(false);
    expect(isEnvironmental("EACCES")).toBe(false);
  });
});
