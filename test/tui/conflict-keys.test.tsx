import { afterEach, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { render } from "ink-testing-library";
import { writeAthletes } from "../../runtime/demo/athletes.ts";
import { App } from "../../tui/app.tsx";
import { startDaemonProcess, tempDir, waitUntil } from "../helpers.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const frame = (screen: { lastFrame(): string | undefined }) => screen.lastFrame() ?? "";

test("the TUI shows one question for all the players waiting, and answers one player or all", async () => {
  await using dir = tempDir();
  writeAthletes(join(dir.path, "data/athletes"), { players: 3, sessions: 3, rows: 300, seed: 5 });
  const profile = dir.write(
    "profile.yaml",
    `extends: base
governor: { max_cpu_before: 100, max_memory_before: 100, pause_cpu: 100, pause_memory: 100, sample_interval: 200ms }
conflicts: { predictors: [{ name: player-dashboard, lockfile: dashboard.lock }], ask_timeout: 60s }
jobs:
  activity:
    strategy: random-forest
    key: player
    options: { n_estimators: 3 }
    data: { source: sessions, path: athletes, debounce: 0 }
    triggers: [{ type: manual }]
    constraints: { not_during: [player-dashboard], on_conflict: ask }
`,
  );
  writeFileSync(join(dir.path, "dashboard.lock"), String(process.pid));
  const daemon = await startDaemonProcess(dir.path, ["--home", dir.path, "--profile", profile]);
  cleanups.push(async () => {
    daemon.proc.kill("SIGTERM");
    await daemon.proc.exited;
  });
  const token = readFileSync(join(dir.path, "api.token"), "utf8").trim();
  const screen = render(<App connection={{ url: daemon.url, token }} color={false} refreshMs={250} />);
  cleanups.push(() => screen.unmount());
  const showing = (text: string) =>
    waitUntil(() => frame(screen).includes(text), 20_000).catch((error) => {
      console.error(frame(screen));
      throw error;
    });
  await showing("● live");
  await fetch(`${daemon.url}/v1/jobs/activity/run`, { method: "POST", headers: { authorization: `Bearer ${token}` } });
  await showing("Conflict: 3 players of job activity wait for player-dashboard");
  expect(frame(screen)).toContain("players: player_1, player_2, player_3 · [ ] answer one");
  expect(frame(screen)).toMatch(/\[w\] wait\s+\[s\] skip\s+\[f\] force all — wait in \d+s/);

  // ] picks a player: the answer goes to that one only.
  screen.stdin.write("]");
  screen.stdin.write("]");
  await showing("answering player_2 only (2 of 3)");
  screen.stdin.write("s");
  await showing("Conflict: 2 players of job activity wait for player-dashboard");
  expect(frame(screen)).toContain("players: player_1, player_3");

  // Then f forces the two still waiting.
  screen.stdin.write("f");
  await waitUntil(() => !frame(screen).includes("Conflict:"), 10_000);
  type Runs = { runs: Array<{ key: string; status: string }> };
  let runs: Runs["runs"] = [];
  await waitUntil(async () => {
    runs = ((await (await fetch(`${daemon.url}/v1/runs`)).json()) as Runs).runs;
    return runs.filter((run) => run.status === "succeeded").length === 2;
  }, 30_000);
  expect(runs.map((run) => run.key).sort()).toEqual(["player_1", "player_3"]);
}, 60_000);
