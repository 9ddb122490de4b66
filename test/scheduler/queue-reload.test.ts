import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startDaemonProcess, tempDir, waitUntil } from "../helpers.ts";

interface Status {
  queue: Array<{ job: string; key?: string }>;
  runs: Array<{ job: string; key: string | null; status: string }>;
  running: number;
}

/** A job of the command strategy over one folder of keys; its trainer waits for the test's go file. */
function job(name: string, folder: string, script: string): string {
  return (
    `  ${name}:\n    strategy: command\n    data: { source: rows, path: ${folder}, key_from: file }\n` +
    `    options: { command: [/bin/sh, ${script}], grace_period: 200ms }\n`
  );
}

test("a reload keeps the queue in order and cancels the entries of a job it removed", async () => {
  await using dir = tempDir();
  const home = join(dir.path, "home");
  const go = join(dir.path, "go");
  // The trainer also ends with the test's folder: none outlives the test.
  const wait = `while [ ! -f ${go} ] && [ -d ${dir.path} ]; do sleep 0.05; done`;
  const script = dir.write("train.sh", `echo '{"event":"heartbeat","step":1}'; ${wait}\n`);
  for (const key of ["k1", "k2", "k3", "k4"]) dir.write(`home/data/parts/${key}.csv`, "x,y\n1,2\n");
  for (const key of ["g1", "g2"]) dir.write(`home/data/other/${key}.csv`, "x,y\n1,2\n");
  const head = `paths:\n  home: ${home}\ngovernor:\n  max_concurrent_runs: 1\njobs:\n`;
  const profile = dir.write("profile.yaml", head + job("slow", "parts", script) + job("gone", "other", script));
  const daemon = await startDaemonProcess(dir.path, ["--home", home, "--headless", "--profile", profile]);
  const status = async () => (await (await fetch(`${daemon.url}/v1/status`)).json()) as Status;
  const log = () => readFileSync(join(home, "logs/edgetrain.log"), "utf8");
  using db = new Database(join(home, "state/edgetrain.db"), { readonly: true });
  const startedKeys = () =>
    db
      .query<{ data: string }, []>("SELECT data FROM events WHERE type = 'run.starting' ORDER BY id")
      .all()
      .map((row) => JSON.parse(row.data) as { job: string; key: string });
  try {
    const token = readFileSync(join(home, "api.token"), "utf8").trim();
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    // Past the governor: a busy test machine would only defer the runs.
    const body = JSON.stringify({ force: true });
    for (const name of ["slow", "gone"]) {
      const response = await fetch(`${daemon.url}/v1/jobs/${name}/run`, { method: "POST", headers, body });
      expect(response.status).toBe(202);
    }
    await waitUntil(async () => (await status()).queue.length === 5, 20_000);

    dir.write("profile.yaml", head + job("slow", "parts", script));
    daemon.proc.kill("SIGHUP");
    await waitUntil(() => log().includes('"profile reloaded"'), 20_000);
    // The run in progress still counts against max_concurrent_runs: nothing more started.
    const after = await status();
    expect(after.queue.map((entry) => `${entry.job}/${entry.key}`)).toEqual(["slow/k2", "slow/k3", "slow/k4"]);
    expect(after.running).toBe(1);
    expect(startedKeys().map((run) => run.key)).toEqual(["k1"]);
    // The removed job's entries are cancelled, said in the log and taken out of the state's queue.
    for (const key of ["g1", "g2"]) {
      const line = log()
        .split("\n")
        .find((text) => text.includes('"run skipped"') && text.includes(`"key":"${key}"`));
      expect(line).toContain('"job":"gone"');
      expect(line).toContain("cancelled by a reload: the job is no longer in the profile");
    }
    const kept = db.query<{ key: string }, []>("SELECT key FROM queued_runs ORDER BY id").all();
    expect(kept.map((row) => row.key)).toEqual(["k2", "k3", "k4"]);

    // Once the trainers may end, what waited runs under the new profile, in its order.
    dir.write("go", "");
    await waitUntil(() => startedKeys().length === 4, 30_000);
    await waitUntil(async () => (await status()).running === 0, 30_000);
    expect(startedKeys().map((run) => `${run.job}/${run.key}`)).toEqual(["slow/k1", "slow/k2", "slow/k3", "slow/k4"]);
    expect(db.query("SELECT * FROM queued_runs").all()).toEqual([]);
  } finally {
    dir.write("go", "");
    daemon.proc.kill("SIGKILL");
    await daemon.proc.exited;
  }
}, 90_000);

test("a stop after a reload cancels the run that started before it", async () => {
  await using dir = tempDir();
  const home = join(dir.path, "home");
  const wait = `while [ -d ${dir.path} ]; do sleep 0.05; done`;
  const script = dir.write("train.sh", `echo '{"event":"heartbeat","step":1}'; ${wait}\n`);
  dir.write("home/data/parts/k1.csv", "x,y\n1,2\n");
  const profile = dir.write("profile.yaml", `paths:\n  home: ${home}\njobs:\n${job("slow", "parts", script)}`);
  const daemon = await startDaemonProcess(dir.path, ["--home", home, "--headless", "--profile", profile]);
  const log = () => readFileSync(join(home, "logs/edgetrain.log"), "utf8");
  const token = readFileSync(join(home, "api.token"), "utf8").trim();
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const body = JSON.stringify({ force: true });
  expect((await fetch(`${daemon.url}/v1/jobs/slow/run`, { method: "POST", headers, body })).status).toBe(202);
  await waitUntil(() => log().includes('"run started"'), 20_000);
  daemon.proc.kill("SIGHUP");
  await waitUntil(() => log().includes('"profile reloaded"'), 20_000);
  daemon.proc.kill("SIGTERM");
  expect(await daemon.proc.exited).toBe(0);
  using db = new Database(join(home, "state/edgetrain.db"), { readonly: true });
  const runs = db.query<{ status: string }, []>("SELECT status FROM runs").all();
  expect(runs.map((run) => run.status)).toEqual(["cancelled"]);
}, 60_000);
