import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { render } from "ink-testing-library";
import { writeAthletes } from "../../runtime/demo/athletes.ts";
import { App } from "../../tui/app.tsx";
import { runCli, startDaemonProcess, type TempDir, tempDir, waitUntil } from "../helpers.ts";

const cleanups: Array<() => unknown> = [];
/** SIGTERM and wait for the exit once the test is over, pass or fail. */
const stopAtEnd = (proc: { kill(signal?: NodeJS.Signals): void; exited: Promise<number> }) =>
  cleanups.push(async () => {
    proc.kill("SIGTERM");
    await proc.exited;
  });
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A trainer that sends a heartbeat every 0.1 s for 30 s. */
const HEARTBEATS = String.raw`for i in $(seq 1 300); do
  echo "{\"event\":\"heartbeat\",\"epoch\":$i,\"epochs\":300}"; sleep 0.1
done`;

/** A real daemon on loopback with a job that trains long enough to be watched, and a predictor lockfile. */
async function daemonFor(dir: TempDir, port = 0) {
  writeAthletes(join(dir.path, "data/athletes"), { players: 1, sessions: 4, rows: 900, seed: 3 });
  const profile = dir.write(
    "profile.yaml",
    `extends: base
governor: { max_cpu_before: 100, max_memory_before: 100, pause_cpu: 100, pause_memory: 100, sample_interval: 200ms }
conflicts:
  predictors: [{ name: live-predictor, lockfile: predictor.lock }]
  ask_timeout: 60s
jobs:
  slow:
    strategy: command
    options: { command: [sh, ${dir.write("trainer.sh", `${HEARTBEATS}\n`)}] }
    triggers: [{ type: manual }]
  guarded:
    strategy: random-forest
    options: { n_estimators: 5 }
    data: { source: sessions, path: athletes, debounce: 0 }
    triggers: [{ type: manual }]
    constraints: { not_during: [live-predictor], on_conflict: ask }
`,
  );
  const daemon = await startDaemonProcess(dir.path, [
    "--home",
    dir.path,
    "--profile",
    profile,
    ...(port ? ["--port", String(port)] : []),
  ]);
  stopAtEnd(daemon.proc);
  const token = readFileSync(join(dir.path, "api.token"), "utf8").trim();
  const post = (path: string, body: unknown = {}) =>
    fetch(daemon.url + path, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  return { ...daemon, token, post, profile };
}

function tui(url: string, token: string) {
  const instance = render(<App connection={{ url, token }} color={false} refreshMs={250} />);
  cleanups.push(() => instance.unmount());
  return instance;
}

const frameHas = (instance: ReturnType<typeof tui>, text: string) => (instance.lastFrame() ?? "").includes(text);

/** A daemon and one TUI attached to it, once the TUI says it is live. */
async function attached(dir: TempDir) {
  const daemon = await daemonFor(dir);
  const screen = tui(daemon.url, daemon.token);
  await waitUntil(() => frameHas(screen, "● live"), 10_000);
  return { daemon, screen };
}

describe("TUI against a real daemon", () => {
  test("the overview shows readings with sparklines and a running run's progress", async () => {
    await using dir = tempDir();
    const { daemon, screen } = await attached(dir);
    await waitUntil(() => frameHas(screen, "CPU"), 10_000);
    await daemon.post("/v1/jobs/slow/run");
    await waitUntil(() => /slow\s+\[█*·*\]\s+\d+% ETA \d+s/.test(screen.lastFrame() ?? ""), 30_000).catch((error) => {
      console.error(screen.lastFrame());
      throw error;
    });
    const frame = screen.lastFrame()!;
    expect(frame).toMatch(/CPU\s+\d+% [▁▂▃▄▅▆▇█ ]+\s+pause ≥100/);
    expect(frame).toMatch(/Running \(1\)/);
    expect(frame).toMatch(/heartbeat/);
    expect(frame).toContain("profile profile");
    await fetch(`${daemon.url}/v1/runs`).then(async (r) => {
      const { runs } = (await r.json()) as { runs: Array<{ id: string }> };
      await daemon.post(`/v1/runs/${runs[0]!.id}/cancel`);
    });
  }, 60_000);

  test("a conflict question appears in every client, is answered from one, and closes in all", async () => {
    await using dir = tempDir();
    const daemon = await daemonFor(dir);
    writeFileSync(join(dir.path, "predictor.lock"), String(process.pid));
    const first = tui(daemon.url, daemon.token);
    const second = tui(daemon.url, daemon.token);
    await waitUntil(() => frameHas(first, "● live") && frameHas(second, "● live"), 10_000);
    await daemon.post("/v1/jobs/guarded/run");
    await waitUntil(
      () => frameHas(first, "Conflict: job guarded") && frameHas(second, "Conflict: job guarded"),
      20_000,
    );
    expect(first.lastFrame()).toContain("live-predictor: lockfile");
    expect(first.lastFrame()).toMatch(/\[w\] wait\s+\[s\] skip\s+\[f\] force — wait in \d+s/);
    first.stdin.write("s");
    await waitUntil(() => !frameHas(first, "Conflict:") && !frameHas(second, "Conflict:"), 10_000);
    const decisions = (await (await fetch(`${daemon.url}/v1/runs?job=guarded`)).json()) as { runs: unknown[] };
    expect(decisions.runs).toHaveLength(0);

    // Answered by another client (curl, here): the modal closes everywhere too.
    await daemon.post("/v1/jobs/guarded/run");
    await waitUntil(() => frameHas(first, "Conflict: job guarded"), 20_000);
    const { conflicts } = (await (await fetch(`${daemon.url}/v1/conflicts`)).json()) as {
      conflicts: Array<{ id: string }>;
    };
    await daemon.post(`/v1/conflicts/${conflicts[0]!.id}`, { action: "skip", by: "curl" });
    await waitUntil(() => !frameHas(first, "Conflict:") && !frameHas(second, "Conflict:"), 10_000);
  }, 60_000);

  test("after the daemon restarts the TUI says reconnecting and recovers by itself", async () => {
    await using dir = tempDir();
    const { daemon, screen } = await attached(dir);
    daemon.proc.kill("SIGTERM");
    await daemon.proc.exited;
    await waitUntil(() => frameHas(screen, "reconnecting…") && frameHas(screen, "does not answer"), 10_000);
    const again = await startDaemonProcess(dir.path, [
      "--home",
      dir.path,
      "--profile",
      daemon.profile,
      "--port",
      String(daemon.listening.port),
    ]);
    stopAtEnd(again.proc);
    // A new daemon makes a new token for its home; a real client reads it again, the test passes the new one.
    await waitUntil(() => frameHas(screen, "● live"), 15_000);
    expect(screen.lastFrame()).not.toContain("at ");
  }, 60_000);

  test("a daemon restarted on another port is found again through the home's daemon.json", async () => {
    await using dir = tempDir();
    const daemon = await daemonFor(dir);
    // What `edgetrain tui` on the home hands the TUI: the address and token read from the home each time.
    const fromHome = (file: string, pick: (text: string) => string) => () => {
      try {
        return pick(readFileSync(join(dir.path, file), "utf8"));
      } catch {
        return undefined;
      }
    };
    const connection = {
      url: daemon.url,
      readUrl: fromHome("daemon.json", (text) => (JSON.parse(text) as { url: string }).url),
      readToken: fromHome("api.token", (text) => text.trim()),
    };
    const screen = render(<App connection={connection} color={false} refreshMs={250} />);
    cleanups.push(() => screen.unmount());
    await waitUntil(() => frameHas(screen, "● live"), 10_000);
    daemon.proc.kill("SIGTERM");
    await daemon.proc.exited;
    await waitUntil(() => frameHas(screen, "reconnecting…"), 10_000);
    const again = await startDaemonProcess(dir.path, ["--home", dir.path, "--profile", daemon.profile]);
    stopAtEnd(again.proc);
    expect(again.listening.port).not.toBe(daemon.listening.port);
    // Nothing listens on the old port any more: live means the new one was found.
    await waitUntil(() => frameHas(screen, "● live"), 15_000);
    // The log tail comes from the new daemon: it has its start line.
    screen.stdin.write("5");
    await waitUntil(() => (screen.lastFrame() ?? "").split("edgetrain 0.1.0 running").length === 3, 10_000);
  }, 60_000);

  test("edgetrain tui without a terminal says so and exits 1", async () => {
    await using dir = tempDir();
    const result = await runCli(["tui", "--home", dir.path], { home: dir.path });
    expect([result.code, result.stderr]).toEqual([
      1,
      expect.stringContaining("edgetrain tui draws on a terminal, and this is not one"),
    ]);
  });

  test("screens switch by number and tab; help opens with ?", async () => {
    await using dir = tempDir();
    const { screen } = await attached(dir);
    screen.stdin.write("4");
    await waitUntil(() => frameHas(screen, "STRATEGY") && frameHas(screen, "guarded"), 5000);
    screen.stdin.write("\t");
    await waitUntil(() => frameHas(screen, "level ≥ info"), 5000);
    screen.stdin.write("6");
    await waitUntil(() => frameHas(screen, "# profile profile:"), 5000);
    expect(screen.lastFrame()).toMatch(/kind: generic # profiles\/base\.yaml:\d+/);
    screen.stdin.write("?");
    await waitUntil(() => frameHas(screen, "q quit (the daemon keeps running)"), 5000);
  }, 60_000);
});
