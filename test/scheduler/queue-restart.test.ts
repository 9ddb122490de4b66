import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startDaemonProcess, tempDir, waitUntil } from "../helpers.ts";

interface Status {
  queue: Array<{ job: string; key?: string; reason: string }>;
  runs: Array<{ job: string; key: string | null; status: string }>;
}

const KEYS = ["k1", "k2", "k3", "k4"];

/** Each run heartbeats once, then trains for a minute: one key runs, the others wait in the queue. */
const TRAINER = `echo '{"event":"heartbeat","step":1}'; sleep 60\n`;

/** The keys the daemon holds: the one running and those queued, with the queue's reasons. */
async function held(url: string): Promise<{ keys: string[]; reasons: string[] }> {
  const status = (await (await fetch(`${url}/v1/status`)).json()) as Status;
  const running = status.runs.filter((run) => run.status === "running").map((run) => run.key ?? "");
  const queued = status.queue.map((entry) => entry.key ?? "");
  return { keys: [...running, ...queued].sort(), reasons: status.queue.map((entry) => entry.reason) };
}

test("runs accepted into the queue survive a SIGKILL and a SIGTERM of the daemon", async () => {
  await using dir = tempDir();
  const home = join(dir.path, "home");
  const script = dir.write("train.sh", TRAINER);
  for (const key of KEYS) dir.write(`home/data/parts/${key}.csv`, "x,y\n1,2\n");
  const profile = dir.write(
    "profile.yaml",
    `paths:\n  home: ${home}\ngovernor:\n  max_concurrent_runs: 1\njobs:\n  slow:\n    strategy: command\n` +
      `    data: { source: rows, path: parts, key_from: file }\n` +
      `    options: { command: [/bin/sh, ${script}], grace_period: 200ms }\n`,
  );
  const args = ["--home", home, "--headless", "--profile", profile];
  let daemon = await startDaemonProcess(dir.path, args);
  try {
    const token = readFileSync(join(home, "api.token"), "utf8").trim();
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    // Past the governor: a busy test machine would only defer the runs.
    const body = JSON.stringify({ force: true });
    const response = await fetch(`${daemon.url}/v1/jobs/slow/run`, { method: "POST", headers, body });
    expect(response.status).toBe(202);
    await waitUntil(async () => (await held(daemon.url)).keys.join() === KEYS.join(), 20_000);
    expect((await held(daemon.url)).reasons).toHaveLength(3);

    daemon.proc.kill("SIGKILL");
    await daemon.proc.exited;
    daemon = await startDaemonProcess(dir.path, args);
    // The three queued keys come back, and the run the crash interrupted is rescheduled beside them.
    await waitUntil(async () => (await held(daemon.url)).keys.join() === KEYS.join(), 20_000);
    const afterCrash = await held(daemon.url);
    expect(afterCrash.reasons.filter((reason) => reason.startsWith("requeued after restart: "))).toHaveLength(2);
    expect(afterCrash.reasons.some((reason) => reason.includes("was interrupted"))).toBe(true);

    // A clean stop cancels the run in progress; the queue stays for the next start.
    daemon.proc.kill("SIGTERM");
    await daemon.proc.exited;
    daemon = await startDaemonProcess(dir.path, args);
    await waitUntil(async () => (await held(daemon.url)).keys.length === 3, 20_000);
    const afterStop = await held(daemon.url);
    expect(afterStop.reasons.every((reason) => reason.startsWith("requeued after restart: "))).toBe(true);
    daemon.proc.kill("SIGKILL");
    await daemon.proc.exited;
    // Each entry queued again is a decision in the state, like any trigger.
    using db = new Database(join(home, "state/edgetrain.db"), { readonly: true });
    const fired = db.query<{ data: string }, []>("SELECT data FROM events WHERE type = 'trigger.fired'").all();
    expect(fired.filter((row) => row.data.includes("requeued after restart: ")).length).toBeGreaterThanOrEqual(5);
  } finally {
    daemon.proc.kill("SIGKILL");
    await daemon.proc.exited;
  }
}, 90_000);
