import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli, walkRunSession as session, tempDir } from "../helpers.ts";

async function homeWithJob(dir: { path: string; write(path: string, text: string): string }, governor = "") {
  const home = join(dir.path, "home");
  for (const player of ["player_1", "player_2"])
    for (let n = 1; n <= 4; n++) dir.write(`home/data/athletes/${player}/TR${n}_x.csv`, session(60, n));
  dir.write(
    "home/profile.yaml",
    `extends: base\npaths:\n  home: ${home}\n${governor}jobs:\n  activity:\n    strategy: random-forest\n    ` +
      `options: { n_estimators: 10 }\n    data: { source: sessions, path: athletes, sessions_to_use: 3, debounce: 0 ` +
      `}\n    triggers: [{ type: manual }]\n`,
  );
  return home;
}

describe("edgetrain train and runs", () => {
  test("runs a profile job for each key and records the runs with their artifacts", async () => {
    await using dir = tempDir();
    const home = await homeWithJob(dir);
    const train = await runCli(["train", "activity", "--home", home, "--force", "--json"], { home: dir.path });
    expect(train.code).toBe(0);
    const { runs } = JSON.parse(train.stdout) as {
      runs: Array<{ key: string; status: string; artifact: string; run: string }>;
    };
    expect(runs.map((r) => [r.key, r.status])).toEqual([
      ["player_1", "succeeded"],
      ["player_2", "succeeded"],
    ]);
    for (const run of runs) expect(run.artifact).toBe(join(home, "runs", run.run, "model.onnx"));
    expect(runs.every((r) => existsSync(r.artifact))).toBe(true);

    const one = await runCli(["train", "activity", "--home", home, "--force", "--key", "player_2", "--json"], {
      home: dir.path,
    });
    expect((JSON.parse(one.stdout) as { runs: unknown[] }).runs).toHaveLength(1);
    const listed = await runCli(["runs", "--home", home, "--json"], { home: dir.path });
    const rows = JSON.parse(listed.stdout) as Array<{ key: string; status: string; trigger: string }>;
    expect(rows.map((r) => r.key)).toEqual(["player_2", "player_2", "player_1"]);
    expect(rows[0]!.trigger).toBe("manual: edgetrain train --force");
    const table = await runCli(["runs", "--home", home, "--job", "activity"], { home: dir.path });
    expect(table.stdout).toMatch(/activity\s+player_2\s+succeeded\s+manual: edgetrain train --force/);
  }, 60_000);

  test("old run folders are removed after each run (history.run_folders); their records stay", async () => {
    await using dir = tempDir();
    const home = await homeWithJob(dir, "history:\n  run_folders: 1\n");
    const runs: string[] = [];
    for (let i = 0; i < 3; i++) {
      const train = await runCli(["train", "activity", "--home", home, "--force", "--key", "player_1", "--json"], {
        home: dir.path,
      });
      runs.push((JSON.parse(train.stdout) as { runs: Array<{ run: string }> }).runs[0]!.run);
    }
    // The newest run is also the latest success; one more folder is kept besides it.
    expect(readdirSync(join(home, "runs")).sort()).toEqual(runs.slice(1).sort());
    const listed = JSON.parse(
      (await runCli(["runs", "--home", home, "--json"], { home: dir.path })).stdout,
    ) as unknown[];
    expect(listed).toHaveLength(3);
  }, 60_000);

  test("an unknown job or key is a clear error; a busy machine defers the run with the reason", async () => {
    await using dir = tempDir();
    const home = await homeWithJob(dir, "governor:\n  max_cpu_before: 0\n");
    const unknown = await runCli(["train", "activty", "--home", home], { home: dir.path });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no job "activty" in the profile (did you mean "activity"?)');
    const badKey = await runCli(["train", "activity", "--home", home, "--key", "player_9", "--force"], {
      home: dir.path,
    });
    expect(badKey.stderr).toContain('job activity has no key "player_9"');
    const deferred = await runCli(["train", "activity", "--home", home], { home: dir.path });
    expect(deferred.code).toBe(5);
    expect(deferred.stderr).toMatch(/job activity deferred: CPU \d+ % ≥ max_cpu_before 0 %/);
    const db = new Database(join(home, "state/edgetrain.db"), { readonly: true });
    expect(db.query<{ type: string }, []>("SELECT type FROM events WHERE type = 'run.deferred'").all()).toHaveLength(1);
    db.close();
  }, 60_000);
});

test("a deploy step is told of its job through its context: name, data section and keys", async () => {
  await using dir = tempDir();
  const home = await homeWithJob(dir);
  dir.write(
    "home/plugins/tell-job.js",
    `export default {
  kind: "deploy", name: "tell-job", version: "1.0.0", options: ({ v }) => v.strictObject({}),
  setup: (ctx) => ({
    deploy: async () => {
      const job = { name: ctx.job.name, data: ctx.job.data, keys: await ctx.job.keys() };
      return { ok: true, message: JSON.stringify(job) };
    },
  }),
};`,
  );
  const profile = join(home, "profile.yaml");
  writeFileSync(
    profile,
    readFileSync(profile, "utf8").replace("    triggers:", "    deploy: [tell-job]\n    triggers:"),
  );
  const train = await runCli(["train", "activity", "--home", home, "--force", "--key", "player_1", "--json"], {
    home: dir.path,
  });
  expect(train.code).toBe(0);
  const [run] = (JSON.parse(train.stdout) as { runs: Array<{ deployment: { steps: Array<{ message: string }> } }> })
    .runs;
  expect(JSON.parse(run!.deployment.steps[0]!.message)).toMatchObject({
    name: "activity",
    data: { source: "sessions", path: "athletes", sessions_to_use: 3 },
    keys: ["player_1", "player_2"],
  });
}, 60_000);

test("an incremental job warm-starts from the artifact of its last successful run", async () => {
  await using dir = tempDir();
  const { readModelDescription } = await import("../../runtime/inference/model-metadata.ts");
  const home = join(dir.path, "home");
  dir.write(
    "home/data/prices/rows.csv",
    "symbol,a,b,label\n" +
      Array.from({ length: 200 }, (_, i) => `${i % 2 ? "X" : "Y"},${i % 7},${i % 5},${(i % 7) * 2 + (i % 5)}`).join(
        "\n",
      ) +
      "\n",
  );
  dir.write(
    "home/profile.yaml",
    `paths:\n  home: ${home}\njobs:\n  prices:\n    strategy: incremental-nn\n    options: { task: regression, ` +
      `epochs: 3, warm_start: true }\n    data: { source: rows, path: prices, key_column: symbol, debounce: 0 }\n`,
  );
  const described = async () => {
    const run = await runCli(["train", "prices", "--home", home, "--force", "--key", "X", "--json"], {
      home: dir.path,
    });
    const artifact = (JSON.parse(run.stdout) as { runs: Array<{ artifact: string }> }).runs[0]!.artifact;
    return readModelDescription(new Uint8Array(await Bun.file(artifact).arrayBuffer()), artifact) as unknown as {
      warm_started: boolean;
    };
  };
  expect((await described()).warm_started).toBe(false);
  expect((await described()).warm_started).toBe(true);
}, 60_000);
