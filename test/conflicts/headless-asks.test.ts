import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Conflict, DaemonStatus, RunList } from "../../runtime/api/contract.ts";
import { holdLockfile } from "../../runtime/conflicts/predictors.ts";
import { bun, cli, runCli, startDaemonProcess, tempDir, waitUntil } from "../helpers.ts";

const TOKEN = "headless-token-0123456789";

/** ask, with on_unattended skip and ask_default wait: which of the two applied tells who was asked. */
function writeHome(dir: { path: string; write(path: string, text: string): string }, askTimeout: string) {
  const home = join(dir.path, "home");
  const rows = `hr,label\n${Array.from({ length: 40 }, (_, i) => `${i},${i % 2 ? "a" : "b"}`).join("\n")}\n`;
  for (let n = 1; n <= 2; n++) dir.write(`home/data/athletes/player_1/TR${n}_x.csv`, rows);
  dir.write(
    "home/profile.yaml",
    `paths: { home: ${home} }
api: { token: ${TOKEN} }
governor: { sample_interval: 100ms, max_cpu_before: 100, max_memory_before: 100, pause_cpu: 100, pause_memory: 100 }
conflicts:
  predictors: [{ name: live }]
  policy: ask
  on_unattended: skip
  ask_default: wait
  ask_timeout: ${askTimeout}
  check_interval: 200ms
  max_wait: 1m
jobs:
  activity:
    strategy: random-forest
    options: { n_estimators: 3 }
    data: { source: sessions, path: athletes, debounce: 0 }
    constraints: { not_during: [live] }
`,
  );
  return home;
}

/** A headless daemon (as systemd starts it) and what the test asks of it. */
async function headless(home: string) {
  const { proc, url } = await startDaemonProcess(home, ["--home", home, "--headless"]);
  const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
  const post = (path: string, body: unknown = {}) =>
    fetch(url + path, { method: "POST", headers, body: JSON.stringify(body) });
  const open = async () => ((await (await fetch(`${url}/v1/conflicts`)).json()) as { conflicts: Conflict[] }).conflicts;
  const db = () => new Database(join(home, "state/edgetrain.db"), { readonly: true });
  const events = (type: string) => {
    const state = db();
    const rows = state.query<{ data: string }, [string]>("SELECT data FROM events WHERE type = ?").all(type);
    state.close();
    return rows.map((row) => JSON.parse(row.data) as Record<string, unknown>);
  };
  /** Follows /v1/events as a client would, reading the stream so that it keeps flowing; `seen` names each event. */
  const follow = async (types: string) => {
    const stop = new AbortController();
    const response = await fetch(`${url}/v1/events?types=${types}`, { signal: stop.signal });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    const seen: string[] = [];
    let partial = "";
    void (async () => {
      for (;;) {
        const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
        if (done) return;
        const lines = (partial + value).split("\n");
        partial = lines.pop()!;
        for (const line of lines) if (line.startsWith("event: ")) seen.push(line.slice("event: ".length));
      }
    })();
    return Object.assign(() => stop.abort(), { seen });
  };
  const runs = async () => ((await (await fetch(`${url}/v1/runs`)).json()) as RunList).runs;
  const status = async () => (await (await fetch(`${url}/v1/status`)).json()) as DaemonStatus;
  const stop = async () => {
    proc.kill("SIGTERM");
    await proc.exited;
  };
  return { post, open, events, follow, runs, status, stop };
}

test("a headless daemon asks while a client follows conflict events, and uses on_unattended otherwise", async () => {
  await using dir = tempDir();
  const home = writeHome(dir, "1m");
  const env = { PATH: process.env.PATH, HOME: home };
  const hold = Bun.spawn([bun, cli, "hold", "live", "--home", home, "--", "sleep", "120"], { env });
  await waitUntil(() => existsSync(holdLockfile(join(home, "locks"), "live")));
  const daemon = await headless(home);
  try {
    // A client that follows only runs cannot answer: nobody is asked, on_unattended (skip) applies.
    const runsOnly = await daemon.follow("run.");
    await daemon.post("/v1/jobs/activity/run");
    await waitUntil(() => daemon.events("run.skipped").length === 1);
    const reason = expect.stringMatching(/^skipped: live \(hold pid \d+\)/);
    expect(daemon.events("run.skipped")[0]).toMatchObject({ reason });
    expect(daemon.events("conflict.met")[0]).toMatchObject({ policy: "skip" });
    runsOnly();

    // A client following conflicts (a TUI, curl -N …/v1/events): the question is put, and its answer decides.
    const leave = await daemon.follow("conflict.");
    expect((await daemon.status()).conflicts).toEqual({ open: 0, clients: 1, asking: true });
    await daemon.post("/v1/jobs/activity/run");
    let conflicts: Conflict[] = [];
    await waitUntil(async () => (conflicts = await daemon.open()).length === 1);
    expect(conflicts[0]).toMatchObject({ job: "activity", key: "player_1", default_answer: "skip" });
    expect((await daemon.post(`/v1/conflicts/${conflicts[0]!.id}`, { action: "force" })).status).toBe(200);
    await waitUntil(async () => (await daemon.runs()).some((run) => run.status === "succeeded"), 30_000);
    expect(daemon.events("conflict.forced")).toHaveLength(1);
    // The answer reaches a client once: conflict.forced follows it on the stream.
    await waitUntil(() => leave.seen.includes("conflict.forced"));
    expect(leave.seen.filter((type) => type === "conflict.answered")).toHaveLength(1);

    // Gone again: the daemon no longer asks.
    leave();
    await waitUntil(async () => {
      const { conflicts, running } = await daemon.status();
      return !conflicts.asking && running === 0;
    }, 20_000);
    await daemon.post("/v1/jobs/activity/run");
    await waitUntil(() => daemon.events("run.skipped").length === 2);
    expect(daemon.events("conflict.met").at(-1)).toMatchObject({ policy: "skip" });
    expect(daemon.events("conflict.asked")).toHaveLength(1);
    const shown = await runCli(["status", "--home", home], { home });
    expect(shown.stdout).toContain("conflicts: 0 open · nobody to ask (on_unattended applies)");
  } finally {
    await daemon.stop();
  }

  // Attached but nobody answers within ask_timeout: on_unattended (skip) applies, not ask_default (wait).
  writeHome(dir, "1s");
  const again = await headless(home);
  try {
    const leave = await again.follow("conflict.");
    await again.post("/v1/jobs/activity/run");
    // The same home: the first daemon's answer is recorded before this one.
    await waitUntil(() => again.events("conflict.answered").length === 2);
    expect(again.events("conflict.answered")[1]).toMatchObject({ answer: "skip", by: "timeout" });
    const reason = "skipped: the answer to the conflict was skip";
    expect(again.events("run.skipped").at(-1)).toMatchObject({ reason });
    leave();
  } finally {
    await again.stop();
    hold.kill("SIGTERM");
    await hold.exited;
  }
}, 90_000);
