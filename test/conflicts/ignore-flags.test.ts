import { expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { holdLockfile } from "../../runtime/conflicts/predictors.ts";
import { bun, cli, runCli, startDaemonProcess, tempDir, waitUntil } from "../helpers.ts";

/**
 * Job `activity` (one player) must not overlap predictor `live`, skips when it meets it, and copies its model
 * for file-reading predictors; `governor` is what the profile says of the governor.
 */
function writeHome(dir: { path: string; write(path: string, text: string): string }, governor: string) {
  const home = join(dir.path, "home");
  const rows = `hr,label\n${Array.from({ length: 40 }, (_, i) => `${i},${i % 2 ? "a" : "b"}`).join("\n")}\n`;
  for (let n = 1; n <= 2; n++) dir.write(`home/data/athletes/player_1/TR${n}_x.csv`, rows);
  dir.write(
    "home/profile.yaml",
    `paths: { home: ${home} }
governor: ${governor}
conflicts: { predictors: [{ name: live }], policy: skip }
jobs:
  activity:
    strategy: random-forest
    options: { n_estimators: 3 }
    data: { source: sessions, path: athletes, debounce: 0 }
    constraints: { not_during: [live] }
    deploy: [activate, { type: copy-to-dir, dir: updated }]
`,
  );
  return home;
}

async function holdLive(home: string) {
  const env = { PATH: process.env.PATH, HOME: home };
  const hold = Bun.spawn([bun, cli, "hold", "live", "--home", home, "--", "sleep", "120"], { env });
  await waitUntil(() => existsSync(holdLockfile(join(home, "locks"), "live")));
  return async () => {
    hold.kill("SIGTERM");
    await hold.exited;
  };
}

test("edgetrain train --ignore-governor, --ignore-conflicts and --force each lift what they say, loudly", async () => {
  await using dir = tempDir();
  // The governor refuses every run (CPU is never below 0 %), and live predicts throughout.
  const home = writeHome(dir, "{ max_cpu_before: 0 }");
  const release = await holdLive(home);
  const copied = join(home, "updated/player_1.onnx");
  try {
    const train = (...flags: string[]) => runCli(["train", "activity", "--home", home, ...flags], { home: dir.path });
    const governorOnly = await train("--ignore-governor");
    expect(governorOnly.code).toBe(5);
    expect(governorOnly.stderr).toMatch(/skipped job activity: live \(hold pid \d+\) is predicting/);

    const conflictsOnly = await train("--ignore-conflicts");
    expect(conflictsOnly.code).toBe(5);
    expect(conflictsOnly.stderr).toMatch(/job activity deferred: CPU \d+ % ≥ max_cpu_before 0 %/);
    expect(conflictsOnly.stderr).toContain("--ignore-governor to run anyway");

    const both = await train("--ignore-governor", "--ignore-conflicts");
    expect(both.code).toBe(0);
    expect(both.stderr).toContain("IGNORING THE GOVERNOR: job activity for player_1 trains without admission");
    expect(both.stderr).toContain("IGNORING CONFLICTS: job activity for player_1 trains and writes its files");
    // Forced past live for the run and for its copy: the file predictors read is there.
    expect(both.stderr).toContain("FORCED: job activity trains while live predicts");
    expect(both.stdout).toMatch(/player_1: succeeded.*model activity-player_1 version 1 activated/);
    expect(existsSync(copied)).toBe(true);

    const forced = await train("--force", "--json");
    expect(forced.code).toBe(0);
    expect(forced.stderr).toContain("IGNORING THE GOVERNOR: job activity for player_1");
    expect(forced.stderr).toContain("IGNORING CONFLICTS: job activity for player_1");
    type Answer = { runs: Array<{ deployment: { version: number; status: string } }> };
    const [run] = (JSON.parse(forced.stdout) as Answer).runs;
    expect(run!.deployment).toMatchObject({ version: 2, status: "activated" });
    const store = readFileSync(join(home, "models/activity-player_1/2/model.onnx"));
    expect(readFileSync(copied)).toEqual(store);
    const runs = JSON.parse((await runCli(["runs", "--home", home, "--json"], { home: dir.path })).stdout);
    // Both flags are --force, as the run's trigger says.
    const triggers = (runs as Array<{ trigger: string }>).map((r) => r.trigger);
    expect(triggers).toEqual(["manual: edgetrain train --force", "manual: edgetrain train --force"]);
  } finally {
    await release();
  }
}, 90_000);

test("a daemon honours --ignore-conflicts from edgetrain train, and logs it", async () => {
  await using dir = tempDir();
  const limits = "max_cpu_before: 100, max_memory_before: 100, pause_cpu: 100, pause_memory: 100";
  const governor = `{ ${limits}, sample_interval: 100ms }`;
  const home = writeHome(dir, governor);
  const release = await holdLive(home);
  const daemon = await startDaemonProcess(home, ["--home", home, "--headless"]);
  try {
    type Runs = { runs: Array<{ status: string; trigger: string }> };
    const runs = async () => ((await (await fetch(`${daemon.url}/v1/runs`)).json()) as Runs).runs;
    const plain = await runCli(["train", "activity", "--home", home], { home: dir.path });
    expect(plain.stdout).toContain("queued activity in the daemon");
    const queued = await runCli(["train", "activity", "--home", home, "--ignore-conflicts"], { home: dir.path });
    expect(queued.code).toBe(0);
    expect(queued.stdout).toMatch(/queued activity in the daemon \(pid \d+\), ignoring conflicts;/);
    await waitUntil(async () => (await runs()).some((run) => run.status === "succeeded"), 30_000);
    expect((await runs()).map((run) => run.trigger)).toEqual(["manual: API, ignoring conflicts"]);
    await waitUntil(() => existsSync(join(home, "updated/player_1.onnx")), 10_000);
    type Logs = { lines: Array<{ level: string; msg: string }> };
    const { lines } = (await (await fetch(`${daemon.url}/v1/logs?level=warn`)).json()) as Logs;
    const warned =
      "IGNORING CONFLICTS: job activity for player_1 trains and writes its files even while its live predictors run";
    expect(lines.map((line) => line.msg)).toContain(warned);
  } finally {
    daemon.proc.kill("SIGTERM");
    await daemon.proc.exited;
    await release();
  }
}, 60_000);
