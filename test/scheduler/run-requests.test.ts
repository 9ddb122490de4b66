import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Conflict, RunList, RunSummary } from "../../runtime/api/contract.ts";
import { holdLockfile } from "../../runtime/conflicts/predictors.ts";
import { bun, cli, runCli, startDaemonProcess, tempDir, waitUntil } from "../helpers.ts";

const TOKEN = "run-requests-token-0123456789";
/** A trainer that runs until it is cancelled, saying so every 100 ms. */
const TRAINER = `while true; do echo '{"event":"heartbeat"}'; sleep 0.1; done`;

/** Job `cmd` (no keys) must not overlap predictor `live`; `governor` and `conflicts` are the profile's. */
function writeHome(dir: { path: string; write(path: string, text: string): string }, governor: string, policy: string) {
  const home = join(dir.path, "home");
  dir.write(
    "home/profile.yaml",
    `paths: { home: ${home} }
api: { token: ${TOKEN} }
governor: { sample_interval: 100ms, ${governor} }
conflicts: { predictors: [{ name: live }], policy: ${policy}, ask_timeout: 1m, max_wait: 1m }
jobs:
  cmd:
    strategy: command
    options: { command: ${JSON.stringify(TRAINER)}, grace_period: 300ms }
    constraints: { not_during: [live] }
    triggers: [{ type: manual }]
`,
  );
  return home;
}

async function daemonOn(home: string, args: string[] = []) {
  const { proc, url } = await startDaemonProcess(home, ["--home", home, ...args]);
  const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
  const post = async (body: unknown = {}) => {
    const response = await fetch(`${url}/v1/jobs/cmd/run`, { method: "POST", headers, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const get = async <T>(path: string) => (await (await fetch(url + path)).json()) as T;
  const runs = async () => (await get<RunList>("/v1/runs")).runs;
  const events = (type: string) => {
    const db = new Database(join(home, "state/edgetrain.db"), { readonly: true });
    const rows = db.query<{ data: string }, [string]>("SELECT data FROM events WHERE type = ?").all(type);
    db.close();
    return rows.map((row) => JSON.parse(row.data) as Record<string, unknown>);
  };
  const stop = async () => {
    proc.kill("SIGTERM");
    await proc.exited;
  };
  return { post, get, runs, events, stop, pid: proc.pid };
}

test("train --ignore-governor upgrades a run the governor deferred; a second request says what it found", async () => {
  await using dir = tempDir();
  // The governor defers every run: CPU is never below 0 %.
  const home = writeHome(dir, "max_cpu_before: 0, pause_cpu: 100, pause_memory: 100", "wait");
  const daemon = await daemonOn(home, ["--headless"]);
  const train = (...flags: string[]) => runCli(["train", "cmd", "--home", home, ...flags], { home: dir.path });
  try {
    expect((await train()).stdout).toContain(`queued cmd in the daemon (pid ${daemon.pid});`);
    await waitUntil(() => daemon.events("run.deferred").length > 0);

    // Nothing to add: said so, and the entry stays as it is.
    const again = await daemon.post();
    expect(again).toEqual({
      status: 200,
      body: expect.objectContaining({ queued: false, keys: [{ key: null, result: "already_queued" }] }),
    });
    expect(again.body.reason).toBe("job cmd is already queued");
    const plain = await train();
    expect([plain.code, plain.stdout]).toEqual([
      0,
      `job cmd is already queued (daemon pid ${daemon.pid}); follow it with edgetrain status\n`,
    ]);

    // Still deferred by the governor, it now ignores conflicts too; the state keeps that for a restart.
    const conflicts = await daemon.post({ ignore_conflicts: true });
    expect(conflicts.status).toBe(202);
    expect(conflicts.body).toMatchObject({ queued: true, keys: [{ key: null, result: "upgraded" }] });
    expect(conflicts.body.reason).toBe("job cmd was already queued: it now runs ignoring conflicts");
    const db = new Database(join(home, "state/edgetrain.db"), { readonly: true });
    const kept = db.query("SELECT trigger, ignore_governor, ignore_conflicts FROM queued_runs WHERE job = 'cmd'").all();
    db.close();
    expect(kept).toEqual([
      { trigger: "manual: API; manual: API, ignoring conflicts", ignore_governor: 0, ignore_conflicts: 1 },
    ]);

    const forced = await train("--ignore-governor", "--json");
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ queued: true, keys: [{ key: null, result: "upgraded" }] });
    let run: RunSummary | undefined;
    await waitUntil(
      async () => (run = (await daemon.runs()).find((r) => r.status === "running")) !== undefined,
      20_000,
    );
    if (!run) throw new Error("no run in progress");
    expect(run.trigger).toBe("manual: API; manual: API, ignoring conflicts; manual: API, ignoring the governor");
    type Logs = { lines: Array<{ msg: string }> };
    const warned = (await daemon.get<Logs>("/v1/logs?level=warn")).lines.map((line) => line.msg);
    expect(warned).toContain("job cmd, already queued, now runs ignoring the governor");
    expect(warned).toContain(
      "IGNORING THE GOVERNOR: job cmd trains without admission and is never paused, however busy the host",
    );

    // A run in progress: refused, naming the run it would overlap.
    const running = await daemon.post({ ignore_governor: true });
    expect(running).toEqual({
      status: 409,
      body: expect.objectContaining({ code: "already_running", job: "cmd", runs: [run.id] }),
    });
    const overlap = await train();
    expect(overlap.code).toBe(5);
    expect(overlap.stderr).toContain(`job cmd is already running (run ${run.id}): runs of a job and key never overlap`);
    expect(overlap.stdout).toBe("");
  } finally {
    await daemon.stop();
  }
}, 60_000);

test("train --ignore-conflicts upgrades a run waiting on a question: the question goes, the run starts", async () => {
  await using dir = tempDir();
  const home = writeHome(dir, "max_cpu_before: 100, max_memory_before: 100, pause_cpu: 100, pause_memory: 100", "ask");
  const env = { PATH: process.env.PATH, HOME: home };
  const hold = Bun.spawn([bun, cli, "hold", "live", "--home", home, "--", "sleep", "120"], { env });
  await waitUntil(() => existsSync(holdLockfile(join(home, "locks"), "live")));
  const daemon = await daemonOn(home);
  try {
    expect((await daemon.post()).status).toBe(202);
    await waitUntil(async () => (await daemon.get<{ conflicts: Conflict[] }>("/v1/conflicts")).conflicts.length === 1);

    const forced = await runCli(["train", "cmd", "--home", home, "--ignore-conflicts"], { home: dir.path });
    expect([forced.code, forced.stdout]).toEqual([
      0,
      `job cmd was already queued: it now runs ignoring conflicts (daemon pid ${daemon.pid}); follow it with ` +
        "edgetrain status\n",
    ]);
    await waitUntil(async () => (await daemon.runs()).some((r) => r.status === "running"), 20_000);
    expect(daemon.events("conflict.forced")).toHaveLength(1);
    expect((await daemon.get<{ conflicts: Conflict[] }>("/v1/conflicts")).conflicts).toEqual([]);
  } finally {
    await daemon.stop();
    hold.kill("SIGTERM");
    await hold.exited;
  }
}, 60_000);
