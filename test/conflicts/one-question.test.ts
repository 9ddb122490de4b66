import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Conflict } from "../../runtime/api/contract.ts";
import { holdLockfile } from "../../runtime/conflicts/predictors.ts";
import { bun, cli, startDaemonProcess, tempDir, waitUntil } from "../helpers.ts";

const TOKEN = "one-question-token-0123456789";

/** A home whose job `activity` trains one model per player, three players, and must not overlap `live`. */
function writeHome(dir: { path: string; write(path: string, text: string): string }) {
  const home = join(dir.path, "home");
  const rows = `hr,label\n${Array.from({ length: 40 }, (_, i) => `${i},${i % 2 ? "a" : "b"}`).join("\n")}\n`;
  for (const player of ["player_1", "player_2", "player_3"]) {
    for (let n = 1; n <= 2; n++) dir.write(`home/data/athletes/${player}/TR${n}_x.csv`, rows);
  }
  dir.write(
    "home/profile.yaml",
    `paths: { home: ${home} }
api: { token: ${TOKEN} }
governor: { sample_interval: 100ms, max_cpu_before: 100, max_memory_before: 100, pause_cpu: 100, pause_memory: 100 }
conflicts: { predictors: [{ name: live }], policy: ask, ask_timeout: 1m }
jobs:
  activity:
    strategy: random-forest
    key: player
    options: { n_estimators: 3 }
    data: { source: sessions, path: athletes, debounce: 0 }
    constraints: { not_during: [live] }
`,
  );
  return home;
}

test("the keys waiting on the same predictor share one question, answered for one key or for all", async () => {
  await using dir = tempDir();
  const home = writeHome(dir);
  const env = { PATH: process.env.PATH, HOME: home };
  const hold = Bun.spawn([bun, cli, "hold", "live", "--home", home, "--", "sleep", "60"], { env });
  await waitUntil(() => existsSync(holdLockfile(join(home, "locks"), "live")));
  const { proc, url } = await startDaemonProcess(home, ["--home", home]);
  const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
  const post = (path: string, body: unknown) =>
    fetch(url + path, { method: "POST", headers, body: JSON.stringify(body) });
  const open = async () => ((await (await fetch(`${url}/v1/conflicts`)).json()) as { conflicts: Conflict[] }).conflicts;
  try {
    await post("/v1/jobs/activity/run", {});
    let conflicts: Conflict[] = [];
    await waitUntil(async () => (conflicts = await open()).some((c) => c.keys.length === 3));
    expect(conflicts).toHaveLength(1);
    const [question] = conflicts;
    expect(question).toMatchObject({
      job: "activity",
      keys: ["player_1", "player_2", "player_3"],
      key_name: "player",
      summary: "3 players of job activity wait for live",
      predictors: [{ name: "live", found: "hold" }],
    });

    // One key answered on its own: skip player_2; the others still wait on the same question.
    const one = await post(`/v1/conflicts/${question!.id}`, { action: "skip", key: "player_2", by: "test" });
    expect(one.status).toBe(200);
    expect(await one.json()).toMatchObject({
      keys: ["player_1", "player_3"],
      answers: { player_2: { answer: "skip", by: "test" } },
    });
    const unknown = await post(`/v1/conflicts/${question!.id}`, { action: "skip", key: "player_9" });
    expect(unknown.status).toBe(404);
    const { message } = (await unknown.json()) as { message: string };
    expect(message).toBe("key player_9 does not wait on the question about job activity");
    await waitUntil(async () => (await open())[0]?.summary === "2 players of job activity wait for live");

    // Then force all: the two keys still waiting train, player_2 does not.
    expect((await post(`/v1/conflicts/${question!.id}`, { action: "force" })).status).toBe(200);
    type Runs = { runs: Array<{ key: string; status: string }> };
    let runs: Runs["runs"] = [];
    await waitUntil(async () => {
      runs = ((await (await fetch(`${url}/v1/runs`)).json()) as Runs).runs;
      return runs.filter((r) => r.status === "succeeded").length === 2;
    }, 30_000);
    expect(runs.map((r) => r.key).sort()).toEqual(["player_1", "player_3"]);
    expect(await open()).toEqual([]);
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
    hold.kill("SIGTERM");
    await hold.exited;
  }
  const db = new Database(join(home, "state/edgetrain.db"), { readonly: true });
  const byType = db.query<{ data: string }, [string]>("SELECT data FROM events WHERE type = ?");
  const events = (type: string) => byType.all(type).map((row) => JSON.parse(row.data));
  const count = (type: string) => events(type).length;
  const skipped = events("run.skipped");
  const [asked, met, forced] = [count("conflict.asked"), count("conflict.met"), count("conflict.forced")];
  db.close();
  expect([asked, met, forced]).toEqual([1, 3, 2]);
  const reason = "skipped: the answer to the conflict was skip";
  expect(skipped).toEqual([{ job: "activity", key: "player_2", reason }]);
}, 60_000);
