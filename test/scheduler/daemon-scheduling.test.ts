import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { openState } from "../../runtime/state/database.ts";
import { walkRunSession as session, startDaemonProcess, tempDir } from "../helpers.ts";

const TOKEN = "scheduler-token-0123456789";

function writeHome(dir: { path: string; write(path: string, text: string): string }, triggers: string) {
  const home = join(dir.path, "home");
  for (const player of ["player_1", "player_2"])
    for (let n = 1; n <= 3; n++) dir.write(`home/data/athletes/${player}/TR${n}_x.csv`, session(40, n));
  dir.write(
    "home/profile.yaml",
    `paths:\n  home: ${home}\napi:\n  token: \${EDGETRAIN_TOKEN}\ngovernor:\n  sample_interval: 200ms\n  ` +
      `max_cpu_before: 100\n  max_memory_before: 100\n  pause_cpu: 100\n  pause_memory: 100\njobs:\n  activity:\n    ` +
      `strategy: random-forest\n    options: { n_estimators: 5 }\n    data: { source: sessions, path: athletes, ` +
      `debounce: 0 }\n    triggers: ${triggers}\n`,
  );
  return home;
}

async function startDaemon(home: string) {
  const { proc, url } = await startDaemonProcess(home, ["--home", home, "--headless"], { EDGETRAIN_TOKEN: TOKEN });
  const api = (path: string, init?: RequestInit) => fetch(`${url}${path}`, init);
  return { proc, api };
}

async function until<T>(probe: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out");
    await Bun.sleep(100);
  }
}

type Runs = { runs: Array<{ id: string; key: string; status: string; trigger: string }> };

describe("the daemon schedules jobs", () => {
  test("a cron trigger runs every key, never two runs of the same job+key at once", async () => {
    await using dir = tempDir();
    const home = writeHome(dir, '[{ type: cron, schedule: "* * * * * *" }]');
    const { proc, api } = await startDaemon(home);
    try {
      const runs = await until(async () => {
        const { runs } = (await (await api("/v1/runs")).json()) as Runs;
        const done = runs.filter((run) => run.status === "succeeded");
        return new Set(done.map((run) => run.key)).size === 2 ? runs : undefined;
      });
      expect(runs.every((run) => run.trigger.startsWith("cron: cron * * * * * *"))).toBe(true);
      const status = (await (await api("/v1/status")).json()) as {
        governor: { readings: { cpuPercent: number } };
        running: number;
      };
      expect(status.governor.readings.cpuPercent).toBeGreaterThanOrEqual(0);
      const jobs = (await (await api("/v1/jobs")).json()) as {
        jobs: Array<{ name: string; triggers: string[]; last_run: { status: string } }>;
      };
      expect(jobs.jobs[0]).toMatchObject({ name: "activity", triggers: ["cron"] });
    } finally {
      proc.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
    }
    const state = openState(join(home, "state"));
    const running = state.db
      .query<{ key: string; started_at: number; ended_at: number }, []>(
        "SELECT key, started_at, ended_at FROM runs WHERE status = 'succeeded' ORDER BY started_at",
      )
      .all();
    for (const key of ["player_1", "player_2"]) {
      const own = running.filter((run) => run.key === key);
      for (let i = 1; i < own.length; i++) expect(own[i]!.started_at).toBeGreaterThanOrEqual(own[i - 1]!.ended_at);
    }
    const decisions = state.db
      .query<{ type: string }, []>("SELECT DISTINCT type FROM events")
      .all()
      .map((row) => row.type);
    expect(decisions).toEqual(expect.arrayContaining(["trigger.fired", "run.starting"]));
    state.close();
  }, 60_000);

  test("runs a crash left 'running' are marked interrupted and rescheduled; POST /v1/jobs/:name/run needs the " +
    "token", async () => {
    await using dir = tempDir();
    const home = writeHome(dir, "[{ type: manual }]");
    const state = openState(join(home, "state"));
    state.db
      .query(
        "INSERT INTO runs (id, job, key, strategy, trigger, status, created_at, started_at) VALUES ('crashed-1', " +
          "'activity', 'player_1', 'random-forest', 'cron', 'running', 1, 1)",
      )
      .run();
    state.close();
    const { proc, api } = await startDaemon(home);
    try {
      const rescheduled = await until(async () => {
        const { runs } = (await (await api("/v1/runs")).json()) as Runs;
        return runs.find(
          (run) => run.trigger === "rescheduled: run crashed-1 was interrupted" && run.status === "succeeded",
        );
      });
      expect(rescheduled.key).toBe("player_1");
      const crashed = (await (await api("/v1/runs/crashed-1")).json()) as { status: string; error: string };
      expect(crashed).toMatchObject({
        status: "interrupted",
        error: "edgetrain stopped while this run was in progress",
      });

      expect((await api("/v1/jobs/activity/run", { method: "POST" })).status).toBe(401);
      const auth = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
      expect((await api("/v1/jobs/nope/run", { method: "POST", headers: auth, body: "{}" })).status).toBe(404);
      expect((await api("/v1/jobs/activity/run", { method: "POST", headers: auth, body: '{"key": 7}' })).status).toBe(
        400,
      );
      const queued = await api("/v1/jobs/activity/run", { method: "POST", headers: auth, body: '{"key": "player_2"}' });
      expect(queued.status).toBe(202);
      await until(async () => {
        const { runs } = (await (await api("/v1/runs?job=activity")).json()) as Runs;
        return runs.find(
          (run) => run.key === "player_2" && run.trigger === "manual: API" && run.status === "succeeded",
        );
      });
      expect((await api("/v1/runs/none")).status).toBe(404);
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
    }
  }, 60_000);
});
