import { expect, test } from "bun:test";
import { availableParallelism } from "node:os";
import { daemonEvents } from "../../tui/connection.ts";
import { runCli, tempDir, waitUntil } from "../helpers.ts";
import { startAthleteDaemon } from "../serving/fixture.ts";

interface Status {
  governor: {
    paused: boolean;
    reason: string;
    sparing_core: boolean;
    sparing_reason: string;
    threads_per_run: number | null;
    readings?: { predictionsPerSecond?: number };
    limits: Record<string, unknown>;
    latency_guard: { threads_per_run: number | null; reason: string; p99_ms: number | null; target_ms: number | null };
  };
  runs: Array<{ id: string; job: string; status: string; progress: number | null }>;
}

/**
 * A daemon with a trained activity model and a slow forest run going, and a way to load it with predictions; disposing
 * of it stops the daemon.
 */
async function daemonTrainingUnderLoad(home: string, governor: string) {
  const { daemon, token } = await startAthleteDaemon(
    home,
    `extends: base
governor: { max_cpu_before: 100, max_memory_before: 100, pause_cpu: 100, pause_memory: 100, resume_cpu: 100,
  resume_memory: 100, sample_interval: 200ms, pause_after: 2, ${governor} }
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
  const post = (path: string, body: unknown) =>
    fetch(daemon.url + path, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const status = async () => (await (await fetch(`${daemon.url}/v1/status`)).json()) as Status;
  const slowRun = async () => (await status()).runs.find((run) => run.job === "slow");
  expect((await post("/v1/jobs/activity/run", { key: "player_1" })).status).toBe(202);
  await waitUntil(
    async () =>
      (await post("/v1/predict/activity-player_1", { inputs: [Array.from({ length: 16 }, (_, i) => i)] })).status ===
      200,
    60_000,
  );
  expect((await post("/v1/jobs/slow/run", { key: "player_1" })).status).toBe(202);
  await waitUntil(async () => ((await slowRun())?.progress ?? 0) > 0, 60_000);
  /** Well over 50 predictions a second, each a new input, while `during` runs. */
  const underLoad = async (during: () => Promise<void>) => {
    let loading = true;
    let sent = 0;
    const clients = Array.from({ length: 4 }, async () => {
      while (loading)
        await (
          await post("/v1/predict/activity-player_1", { inputs: [Array.from({ length: 16 }, () => sent++)] })
        ).arrayBuffer();
    });
    try {
      await during();
    } finally {
      loading = false;
      await Promise.all(clients);
    }
  };
  const stop = async () => {
    daemon.proc.kill("SIGTERM");
    await daemon.proc.exited;
  };
  return { daemon, post, status, slowRun, underLoad, [Symbol.asyncDispose]: stop };
}

test("a real daemon pauses a training run while predictions come faster than pause_predictions_per_s, and resumes it " +
  "when they slow down", async () => {
  await using dir = tempDir();
  await using training = await daemonTrainingUnderLoad(
    dir.path,
    "pause_predictions_per_s: 50, spare_core_predictions_per_s: 0, workers: 1, latency_guard: { enabled: false }",
  );
  const { daemon, post, status, slowRun, underLoad } = training;
  const before = await status();
  expect(before.governor.paused).toBe(false);
  expect(before.governor.limits).toMatchObject({
    pause_predictions_per_s: 50,
    training_class: "idle",
    training_nice: 10,
  });
  await underLoad(async () => {
    await waitUntil(async () => (await status()).governor.paused, 20_000);
    const paused = await status();
    expect(paused.governor.reason).toMatch(/^\d+ predictions\/s > pause_predictions_per_s 50$/);
    expect(paused.governor.readings!.predictionsPerSecond).toBeGreaterThan(50);
    // A paused run stops between trees. The pause reaches the training thread as a message, and the run's record
    // is written at most once a second, so trees grown before the pause arrived may show up late.
    await waitUntil(async () => {
      const before = (await slowRun())!.progress;
      await Bun.sleep(1500);
      return (await slowRun())!.progress === before;
    }, 20_000);
    const held = (await slowRun())!;
    await Bun.sleep(1000);
    const later = (await slowRun())!;
    expect(later.progress).toBe(held.progress);
    expect(later.status).toBe("paused");
  });
  await waitUntil(async () => !(await status()).governor.paused, 10_000);
  const resumed = (await slowRun())!;
  await waitUntil(async () => (await slowRun())?.status === "running", 10_000);
  // Cancel reaches a one-worker run the same way pause does, between two trees.
  expect((await post(`/v1/runs/${resumed.id}/cancel`, {})).status).toBe(200);
  await waitUntil(async () => !(await slowRun()), 10_000);
  const record = (await (await fetch(`${daemon.url}/v1/runs/${resumed.id}`)).json()) as { status: string };
  expect(record.status).toBe("cancelled");
}, 120_000);

test("a real daemon leaves a core to predictions while they come faster than spare_core_predictions_per_s: the run " +
  "goes on, on fewer threads", async () => {
  await using dir = tempDir();
  await using training = await daemonTrainingUnderLoad(
    dir.path,
    "spare_core_predictions_per_s: 50, workers: 2, latency_guard: { enabled: false }",
  );
  const { daemon, status, slowRun, underLoad } = training;
  expect((await status()).governor.sparing_core).toBe(false);
  await underLoad(async () => {
    await waitUntil(async () => (await status()).governor.sparing_core, 20_000);
    const sparing = await status();
    expect(sparing.governor.sparing_reason).toMatch(/^\d+ predictions\/s > spare_core_predictions_per_s 50$/);
    expect(sparing.governor.threads_per_run).toBe(Math.max(1, availableParallelism() - 1));
    expect(sparing.governor.paused).toBe(false);
    expect(await (await fetch(`${daemon.url}/metrics`)).text()).toContain("\nedgetrain_governor_sparing_core 1\n");
    // Unlike a pause, the run keeps growing trees under the load.
    const before = (await slowRun())!;
    await waitUntil(async () => ((await slowRun())?.progress ?? 0) > (before.progress ?? 0), 10_000);
    expect((await slowRun())!.status).toBe("running");
  });
  await waitUntil(async () => !(await status()).governor.sparing_core, 10_000);
  expect((await status()).governor.threads_per_run).toBeNull();
}, 120_000);

test("a real daemon's latency guard takes a training run's threads away one at a time while its answers are slower " +
  "than p99_ms, and gives them back once they calm down", async () => {
  await using dir = tempDir();
  // A target no event loop meets: every window with answers is over it.
  const guard = "latency_guard: { p99_ms: 0.001, window: 400ms, pause_after: 1 }";
  await using training = await daemonTrainingUnderLoad(
    dir.path,
    `spare_core_predictions_per_s: 0, workers: 2, ${guard}`,
  );
  const { daemon, status, slowRun, underLoad } = training;
  const listening = new AbortController();
  const stream = await fetch(`${daemon.url}/v1/events?types=governor.throttled,governor.released`, {
    signal: listening.signal,
  });
  const decisions: Array<{ type: string; data: Record<string, unknown> }> = [];
  const reading = (async () => {
    for await (const event of daemonEvents(stream.body!)) decisions.push(event);
  })().catch(() => {});
  expect((await status()).governor.latency_guard.threads_per_run).toBeNull();
  await underLoad(async () => {
    await waitUntil(async () => (await status()).governor.latency_guard.threads_per_run === 0, 20_000);
    const held = await status();
    expect(held.governor.latency_guard.reason).toMatch(
      /^serving delay p99 [\d.]+ ms > 0\.00 ms \(p99_ms\) for 1 window of 0\.4 s: runs paused$/,
    );
    expect(held.governor.paused).toBe(false);
    await waitUntil(async () => (await slowRun())?.status === "paused", 10_000);
    const cli = await runCli(["status", "--home", dir.path, "--profile", `${dir.path}/profile.yaml`], {
      home: dir.path,
    });
    expect(cli.stdout).toContain(`latency guard: ${held.governor.latency_guard.reason}`);
    const metrics = await (await fetch(`${daemon.url}/metrics`)).text();
    expect(metrics).toContain("\nedgetrain_governor_latency_throttled 1\n");
    expect(metrics).toContain("\nedgetrain_latency_guard_threads_per_run 0\n");
  });
  // No answers: nothing to protect; a thread comes back each calm window.
  await waitUntil(async () => (await status()).governor.latency_guard.threads_per_run === null, 20_000);
  await waitUntil(async () => (await slowRun())?.status === "running", 10_000);
  const before = (await slowRun())!.progress ?? 0;
  await waitUntil(async () => ((await slowRun())?.progress ?? 0) > before, 20_000);
  await waitUntil(() => decisions.filter((event) => event.type === "governor.released").length >= 2, 5000);
  listening.abort();
  await reading;
  // Two threads: taken one at a time, the last one rested a growing share of the time (2 → 1 → 75, 50, 25 % of
  // the time → paused), and given back the same way.
  const steps = decisions.map((event) => [event.type, event.data.threads_per_run, event.data.duty]);
  expect(steps.slice(0, 5)).toEqual([
    ["governor.throttled", 1, undefined],
    ["governor.throttled", 1, 0.75],
    ["governor.throttled", 1, 0.5],
    ["governor.throttled", 1, 0.25],
    ["governor.throttled", 0, undefined],
  ]);
  expect(steps.slice(-5)).toEqual([
    ["governor.released", 1, 0.25],
    ["governor.released", 1, 0.5],
    ["governor.released", 1, 0.75],
    ["governor.released", 1, undefined],
    ["governor.released", undefined, undefined],
  ]);
  expect(decisions[0]!.data).toMatchObject({ target_ms: 0.001, windows: 1, window_s: 0.4, runs: 1 });
  expect(decisions[0]!.data.p99_ms).toBeGreaterThan(0.001);
}, 120_000);
