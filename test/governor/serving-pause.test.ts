import { expect, test } from "bun:test";
import { tempDir, waitUntil } from "../helpers.ts";
import { startAthleteDaemon } from "../serving/fixture.ts";

interface Status {
  governor: { paused: boolean; reason: string; readings?: { predictionsPerSecond?: number } };
  runs: Array<{ id: string; job: string; status: string; progress: number | null }>;
}

test("a real daemon pauses a training run while predictions come faster than pause_predictions_per_s, and resumes it when they slow down", async () => {
  await using dir = tempDir();
  const { daemon, token } = await startAthleteDaemon(
    dir.path,
    `extends: base
governor: { max_cpu_before: 100, max_memory_before: 100, pause_cpu: 100, pause_memory: 100, sample_interval: 200ms, pause_after: 2, pause_predictions_per_s: 50, workers: 1 }
jobs:
  activity:
    strategy: random-forest
    options: { n_estimators: 5, max_depth: 4 }
    data: { source: sessions, path: athletes, sessions_to_use: 3, debounce: 0 }
    triggers: [{ type: manual }]
  slow:
    strategy: random-forest
    options: { n_estimators: 10000, max_depth: 8 }
    data: { source: sessions, path: athletes, sessions_to_use: 3, debounce: 0 }
    triggers: [{ type: manual }]
`,
  );
  try {
    const post = (path: string, body: unknown) => fetch(daemon.url + path, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    const status = async () => (await (await fetch(`${daemon.url}/v1/status`)).json()) as Status;
    expect((await post("/v1/jobs/activity/run", { key: "player_1" })).status).toBe(202);
    await waitUntil(async () => (await post("/v1/predict/activity-player_1", { inputs: [Array.from({ length: 16 }, (_, i) => i)] })).status === 200, 60_000);
    expect((await post("/v1/jobs/slow/run", { key: "player_1" })).status).toBe(202);
    await waitUntil(async () => (await status()).runs.some((run) => run.job === "slow" && (run.progress ?? 0) > 0), 60_000);
    expect((await status()).governor.paused).toBe(false);

    // Well over 50 predictions a second, each a new input, until the governor has paused the run.
    let loading = true;
    let sent = 0;
    const clients = Array.from({ length: 4 }, async () => {
      while (loading) await (await post("/v1/predict/activity-player_1", { inputs: [Array.from({ length: 16 }, () => sent++)] })).arrayBuffer();
    });
    try {
      await waitUntil(async () => (await status()).governor.paused, 20_000);
      const paused = await status();
      expect(paused.governor.reason).toMatch(/^\d+ predictions\/s > pause_predictions_per_s 50$/);
      expect(paused.governor.readings!.predictionsPerSecond).toBeGreaterThan(50);
      // A paused run stops between trees: its progress holds while the load goes on.
      await Bun.sleep(500);
      const held = (await status()).runs.find((run) => run.job === "slow")!;
      await Bun.sleep(1000);
      const later = (await status()).runs.find((run) => run.job === "slow")!;
      expect(later.progress).toBe(held.progress);
      expect(later.status).toBe("paused");
    } finally {
      loading = false;
      await Promise.all(clients);
    }
    await waitUntil(async () => !(await status()).governor.paused, 10_000);
    const resumed = (await status()).runs.find((run) => run.job === "slow")!;
    await waitUntil(async () => (await status()).runs.find((run) => run.job === "slow")?.status === "running", 10_000);
    // Cancel reaches a one-worker run the same way pause does, between two trees.
    expect((await post(`/v1/runs/${resumed.id}/cancel`, {})).status).toBe(200);
    await waitUntil(async () => !(await status()).runs.some((run) => run.job === "slow"), 10_000);
    const record = (await (await fetch(`${daemon.url}/v1/runs/${resumed.id}`)).json()) as { status: string };
    expect(record.status).toBe("cancelled");
  } finally {
    daemon.proc.kill("SIGTERM");
    await daemon.proc.exited;
  }
}, 120_000);
