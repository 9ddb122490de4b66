import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Registry } from "prom-client";
import { EventBus } from "../../runtime/events/bus.ts";
import { EventCounters } from "../../runtime/metrics/event-counters.ts";
import { openState } from "../../runtime/state/database.ts";
import { runSeconds } from "../../runtime/state/runs.ts";
import { startDaemonProcess, tempDir } from "../helpers.ts";

describe("event counters", () => {
  test(
    "runs_total starts at 0 whatever runs are recorded, counts runs as they end, and never shrinks on " + "pruning",
    async () => {
      await using dir = tempDir();
      const state = openState(dir.path);
      const insert = state.db.query(
        "INSERT INTO runs (id, job, key, strategy, trigger, status, created_at, started_at, ended_at) " +
          "VALUES (?, ?, null, 's', 't', ?, 0, ?, ?)",
      );
      insert.run("old1", "activity", "succeeded", 0, 1000);
      insert.run("old2", "activity", "succeeded", 0, 1000);
      insert.run("old3", "activity", "failed", 0, 1000);
      insert.run("now", "activity", "running", 0, null);
      const registry = new Registry();
      const bus = new EventBus();
      const counters = new EventCounters(registry, {
        runSeconds: (id) => runSeconds(state.db, id, 0),
        jobs: () => ["activity", "speed"],
        models: () => ["activity-player_1"],
      });
      bus.subscribe((event) => counters.observe(event));
      const scrape = async () =>
        (await registry.metrics()).split("\n").filter((line) => !line.startsWith("#") && line.length > 0);

      expect(await scrape()).toEqual(
        expect.arrayContaining([
          // Runs ended before this process started are not counted again: a counter starts at 0 in each process.
          'edgetrain_runs_total{job_name="activity",status="succeeded"} 0',
          'edgetrain_runs_total{job_name="activity",status="failed"} 0',
          // Every job starts at 0 in each status, so that its first failure is an increase.
          'edgetrain_runs_total{job_name="speed",status="failed"} 0',
          'edgetrain_model_rollbacks_total{model="activity-player_1"} 0',
          'edgetrain_governor_decisions_total{decision="paused"} 0',
          'edgetrain_governor_decisions_total{decision="throttled"} 0',
          'edgetrain_governor_decisions_total{decision="released"} 0',
        ]),
      );

      state.db
        .query("UPDATE runs SET status = 'succeeded', started_at = 1000, ended_at = 91000 WHERE id = 'now'")
        .run();
      bus.emit("run.finished", { run: "now", job: "activity", key: null, status: "succeeded" });
      // A run left by a daemon that died, found at start: counted, not timed.
      insert.run("gone", "activity", "interrupted", 0, 99_000);
      bus.emit("run.interrupted", { run: "gone", job: "activity", key: undefined });
      bus.emit("model.rolled_back", { model: "activity-player_1", from: 2, to: 1, reason: "by hand" });
      bus.emit("governor.paused", { reason: "cpu 95% > 90%", runs: 1 });
      const figures = { p99_ms: 4.2, target_ms: 3, idle_p99_ms: 2, windows: 2, window_s: 5, runs: 1 };
      bus.emit("governor.throttled", { ...figures, threads_per_run: 1, reason: "serving delay p99 4.20 ms > 3.00 ms" });
      bus.emit("governor.reading", { cpuPercent: 1, memoryPercent: 1, totalCpuPercent: 1, ownCpuPercent: 0, load1: 0 });
      // Retention prunes old records: what has been counted stays counted.
      state.db.query("DELETE FROM runs").run();

      const lines = await scrape();
      expect(lines).toEqual(
        expect.arrayContaining([
          'edgetrain_runs_total{job_name="activity",status="succeeded"} 1',
          'edgetrain_runs_total{job_name="activity",status="failed"} 0',
          'edgetrain_runs_total{job_name="activity",status="interrupted"} 1',
          'edgetrain_run_duration_seconds_bucket{le="60",job_name="activity",status="succeeded"} 0',
          'edgetrain_run_duration_seconds_bucket{le="120",job_name="activity",status="succeeded"} 1',
          'edgetrain_run_duration_seconds_sum{job_name="activity",status="succeeded"} 90',
          'edgetrain_model_rollbacks_total{model="activity-player_1"} 1',
          'edgetrain_governor_decisions_total{decision="paused"} 1',
          'edgetrain_governor_decisions_total{decision="throttled"} 1',
          'edgetrain_governor_decisions_total{decision="released"} 0',
        ]),
      );
      // Runs still under way are not ended runs.
      expect(lines.filter((line) => line.includes('status="running"'))).toEqual([]);
      const timedInterrupted = lines.filter(
        (line) => line.startsWith("edgetrain_run_duration") && line.includes("interrupted"),
      );
      expect(timedInterrupted).toEqual([]);
      state.close();
    },
  );

  test("a daemon started on a home with runs recorded exposes runs_total at 0: a restart after pruning cannot " +
    "look like new runs to increase()", async () => {
    await using dir = tempDir();
    const state = openState(join(dir.path, "state"));
    const insert = state.db.query(
      "INSERT INTO runs (id, job, key, strategy, trigger, status, created_at, started_at, ended_at) " +
        "VALUES (?, 'activity', null, 's', 't', ?, 0, 0, 1000)",
    );
    insert.run("r1", "failed");
    insert.run("r2", "failed");
    insert.run("r3", "succeeded");
    state.close();
    const profile = dir.write(
      "p.yaml",
      "jobs:\n  activity:\n    strategy: random-forest\n    data: { source: rows, path: a.csv }\n" +
        "    triggers: [{ type: manual }]\n",
    );
    const { proc, url } = await startDaemonProcess(dir.path, ["--home", dir.path, "--headless", "--profile", profile]);
    try {
      const runs = (await (await fetch(`${url}/metrics`)).text())
        .split("\n")
        .filter((line) => line.startsWith("edgetrain_runs_total{"))
        .sort();
      expect(runs).toEqual([
        'edgetrain_runs_total{job_name="activity",status="cancelled"} 0',
        'edgetrain_runs_total{job_name="activity",status="failed"} 0',
        'edgetrain_runs_total{job_name="activity",status="interrupted"} 0',
        'edgetrain_runs_total{job_name="activity",status="succeeded"} 0',
      ]);
      // The runs are still there to read: the counter is not their history.
      const listed = (await (await fetch(`${url}/v1/runs`)).json()) as { runs: unknown[] };
      expect(listed.runs).toHaveLength(3);
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
    }
  }, 30_000);
});
