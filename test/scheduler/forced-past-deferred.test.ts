import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { join } from "node:path";
import type { DaemonStatus, RunList } from "../../runtime/api/contract.ts";
import { runCli, startDaemonProcess, tempDir, waitUntil } from "../helpers.ts";

const TOKEN = "forced-past-token-0123456789";
/** A trainer that runs until it is cancelled, saying so every 100 ms. */
const TRAINER = `while true; do echo '{"event":"heartbeat"}'; sleep 0.1; done`;

/** One run at a time, and a governor that defers every run that heeds it: CPU is never below 0 %. */
function writeHome(dir: { path: string; write(path: string, text: string): string }) {
  const home = join(dir.path, "home");
  const job = `    strategy: command
    options: { command: ${JSON.stringify(TRAINER)}, grace_period: 300ms }
    triggers: [{ type: manual }]
`;
  dir.write(
    "home/profile.yaml",
    `paths: { home: ${home} }
api: { token: ${TOKEN} }
governor: { sample_interval: 100ms, max_concurrent_runs: 1, max_cpu_before: 0, pause_cpu: 100, pause_memory: 100 }
jobs:
  slow:
${job}  bad:
${job}  more:
${job}`,
  );
  return home;
}

test("a forced run starts past a run the governor defers, within max_concurrent_runs", async () => {
  await using dir = tempDir();
  const home = writeHome(dir);
  const { proc, url } = await startDaemonProcess(home, ["--home", home, "--headless"]);
  const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
  const post = (path: string, body: unknown = {}) =>
    fetch(url + path, { method: "POST", headers, body: JSON.stringify(body) });
  const get = async <T>(path: string) => (await (await fetch(url + path)).json()) as T;
  const status = () => get<DaemonStatus>("/v1/status");
  const running = async () => (await get<RunList>("/v1/runs")).runs.filter((run) => run.status === "running");
  const deferrals = () => {
    const db = new Database(join(home, "state/edgetrain.db"), { readonly: true });
    const rows = db.query<{ data: string }, []>("SELECT data FROM events WHERE type = 'run.deferred'").all();
    db.close();
    return rows.map((row) => JSON.parse(row.data) as { job: string; reason: string });
  };
  try {
    expect((await post("/v1/jobs/slow/run")).status).toBe(202);
    await waitUntil(() => deferrals().length > 0);

    const forced = await runCli(["train", "bad", "--home", home, "--force"], { home: dir.path });
    expect(forced.code).toBe(0);
    await waitUntil(async () => (await running()).some((run) => run.job === "bad"), 20_000);
    const queue = (await status()).queue.map((entry) => entry.job);
    expect(queue).toEqual(["slow"]);

    // Ignoring the governor is not ignoring max_concurrent_runs: `more` waits for `bad`'s end, then goes past `slow`.
    expect((await post("/v1/jobs/more/run", { ignore_governor: true })).status).toBe(202);
    // Three governor samples later, nothing has changed.
    const sampledAt = async () => Number((await status()).governor.readings?.at ?? 0);
    const queuedAt = await sampledAt();
    await waitUntil(async () => (await sampledAt()) >= queuedAt + 300);
    expect((await status()).queue.map((entry) => entry.job)).toEqual(["slow", "more"]);
    expect((await running()).map((run) => run.job)).toEqual(["bad"]);
    const bad = (await running())[0]!;
    expect((await post(`/v1/runs/${bad.id}/cancel`)).status).toBe(200);
    await waitUntil(async () => (await running()).some((run) => run.job === "more"), 20_000);
    expect((await status()).queue.map((entry) => entry.job)).toEqual(["slow"]);
    expect(new Set(deferrals().map((deferral) => deferral.job))).toEqual(new Set(["slow"]));
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}, 60_000);
