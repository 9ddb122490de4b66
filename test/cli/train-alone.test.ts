import { expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { bun, cli, runCli, type TempDir, tempDir, waitUntil } from "../helpers.ts";

/** Eight rows of two features; small enough that a forest of 5 trees trains in a moment. */
const ROWS = "a,b,label\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n";

/** A home whose job `long` runs a trainer that heartbeats for a minute: a train that holds the home a while. */
function longJobHome(dir: TempDir): string {
  const trainer = dir.write(
    "train.sh",
    `i=0; while [ $i -lt 600 ]; do i=$((i+1)); echo '{"event":"heartbeat","step":1}'; sleep 0.1; done\n`,
  );
  dir.write(
    "home/profile.yaml",
    `jobs:\n  long:\n    strategy: command\n    options: { command: [/bin/sh, ${trainer}] }\n`,
  );
  return join(dir.path, "home");
}

/** The CLI as a child process left running, its stderr readable while it runs. */
function spawnCli(dir: TempDir, args: string[]) {
  return Bun.spawn([bun, cli, ...args], {
    cwd: dir.path,
    env: { PATH: process.env.PATH, HOME: dir.path, NO_COLOR: "1" },
    stdout: "ignore",
    stderr: "pipe",
  });
}

test("trains started side by side on a home without a daemon take turns: every version is kept", async () => {
  await using dir = tempDir();
  const home = join(dir.path, "home");
  dir.write("home/data/rows.csv", ROWS);
  dir.write(
    "home/profile.yaml",
    "jobs:\n  j:\n    strategy: random-forest\n    data: {source: rows, path: rows.csv}\n" +
      "    options: {n_estimators: 5}\n    deploy: [activate]\n",
  );
  const trains = await Promise.all(
    [1, 2, 3].map(() => runCli(["train", "j", "--force", "--home", home], { home: dir.path })),
  );
  expect(trains.map((train) => train.code)).toEqual([0, 0, 0]);
  expect(trains.some((train) => train.stderr.includes("waiting for pid"))).toBe(true);
  const model = await runCli(["model", "j", "--json", "--home", home], { home: dir.path });
  const versions = (JSON.parse(model.stdout) as { versions: Array<{ version: number; status: string }> }).versions;
  expect(versions.map((version) => version.version).sort()).toEqual([1, 2, 3]);
  for (const { version } of versions) expect(existsSync(join(home, "models/j", String(version)))).toBe(true);
  expect(versions.find((version) => version.status === "active")?.version).toBe(3);
  expect(existsSync(join(home, "edgetrain.lock"))).toBe(false);
}, 120_000);

test("SIGTERM stops a train without a daemon as Ctrl-C does: the run is cancelled, no lock is left", async () => {
  await using dir = tempDir();
  const home = longJobHome(dir);
  const train = spawnCli(dir, ["train", "long", "--force", "--home", home]);
  const trainingLocks = () => readdirSync(join(home, "locks")).filter((name) => name.startsWith("training-"));
  await waitUntil(() => existsSync(join(home, "locks")) && trainingLocks().length > 0, 30_000);
  train.kill("SIGTERM");
  const code = await train.exited;
  expect({ code, stderr: await new Response(train.stderr).text() }).toEqual({
    code: 1,
    stderr: expect.stringContaining("interrupted (SIGTERM)"),
  });
  expect(trainingLocks()).toEqual([]);
  expect(existsSync(join(home, "edgetrain.lock"))).toBe(false);
  const runs = JSON.parse((await runCli(["runs", "--json", "--home", home], { home: dir.path })).stdout) as Array<{
    status: string;
  }>;
  expect(runs.map((run) => run.status)).toEqual(["cancelled"]);
}, 60_000);

test("activate without a daemon waits for a train that holds the home, then goes on", async () => {
  await using dir = tempDir();
  const home = longJobHome(dir);
  const train = spawnCli(dir, ["train", "long", "--force", "--home", home]);
  await waitUntil(() => existsSync(join(home, "edgetrain.lock")), 30_000);
  const activate = spawnCli(dir, ["activate", "absent", "1", "--home", home]);
  // Read until it says it waits: only then may the train go.
  const reader = activate.stderr.getReader();
  let stderr = "";
  while (!stderr.includes("waiting for pid")) {
    const { value, done } = await reader.read();
    if (done) break;
    stderr += new TextDecoder().decode(value);
  }
  expect(stderr).toContain(`waiting for pid ${train.pid}`);
  train.kill("SIGTERM");
  await train.exited;
  for (let read = await reader.read(); !read.done; read = await reader.read())
    stderr += new TextDecoder().decode(read.value);
  // Its turn came once the train had gone: it answers about the model, not about the home.
  expect({ code: await activate.exited, stderr }).toEqual({ code: 1, stderr: expect.stringContaining("absent") });
}, 60_000);
