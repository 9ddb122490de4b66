import { afterEach, describe, expect, test } from "bun:test";
import { render } from "ink-testing-library";
import { createApp } from "../../runtime/api/app.ts";
import type { DaemonView } from "../../runtime/api/daemon-view.ts";
import { App } from "../../tui/app.tsx";
import { weekHeatMap } from "../../tui/week-heat-map.ts";
import { fakeDaemon, RUN, STATUS, TOKEN, version } from "../api/fake-daemon.ts";
import { waitUntil } from "../helpers.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const KEYS = { up: "\u001B[A", down: "\u001B[B", escape: "\u001B", enter: "\r", backspace: "\u007F" };

const model = (name: string) => ({
  model: name,
  active: 1,
  versions: 1,
  latest: 1,
  job: "activity",
  key: name.slice(9),
  metrics: { accuracy: 0.8 },
});
/** In the order the daemon's store lists them: people's order, not SQLite's. */
const MODELS = ["activity-player_1", "activity-player_2", "activity-player_10", "coach-day"].map(model);

/** The real app and routes over loopback, in front of a fake daemon with fixed answers; the TUI attached to it. */
async function tuiOn(overrides: Partial<DaemonView> = {}) {
  const { view } = fakeDaemon({ models: () => MODELS, conflicts: () => [], ...overrides });
  const app = createApp(view).listen({ hostname: "127.0.0.1", port: 0 });
  cleanups.push(() => app.stop(true));
  const connection = { url: `http://127.0.0.1:${app.server!.port}`, token: TOKEN };
  const screen = render(<App connection={connection} color={false} refreshMs={100} />);
  cleanups.push(() => screen.unmount());
  await waitUntil(() => frame(screen).includes("● live"), 10_000);
  return screen;
}

const frame = (screen: { lastFrame(): string | undefined }) => screen.lastFrame() ?? "";
/** The name on the selected row (`› name`). */
const selected = (screen: { lastFrame(): string | undefined }) => /› (\S+)/.exec(frame(screen))?.[1];

/** Writes one key and waits for the frame to show what it should. */
async function press(screen: ReturnType<typeof render>, key: string, until: () => boolean) {
  screen.stdin.write(key);
  await waitUntil(until, 5000).catch((error) => {
    console.error(`frame:\n${frame(screen)}`);
    throw error;
  });
}

describe("TUI screens", () => {
  test("the Jobs screen shows a next run given in words, as the contract allows", async () => {
    const screen = await tuiOn();
    await press(screen, "4", () => frame(screen).includes("STRATEGY"));
    expect(frame(screen)).toMatch(/activity\s+random-forest\s+manual\s+running .+ on request/);
  }, 30_000);
});

describe("TUI pictures", () => {
  test("a model's versions show their accuracy as a chart, oldest on the left", async () => {
    const accuracy = [0, 0.71, 0.9, 0.8];
    const versions = [3, 2, 1].map((n) => ({
      ...version(n, n === 3 ? "active" : "retired"),
      metrics: { accuracy: accuracy[n]!, f1: 0.5 },
    }));
    const screen = await tuiOn({
      model: (name) => ({ model: name, active: 3, versions, feature_names: ["hr"], classes: ["rest"] }),
    });
    await press(screen, "3", () => selected(screen) === "activity-player_1");
    await press(screen, KEYS.enter, () => frame(screen).includes("accuracy by version, v1 … v3"));
    const lines = frame(screen).split("\n");
    const below = lines.slice(lines.findIndex((line) => line.includes("by version")) + 1);
    const chart = below.filter((line) => /[┤┼]/.test(line));
    // The y axis is labelled from the highest accuracy down to the lowest; the line rises, then falls.
    expect(chart[0]).toMatch(/^\s*0\.900 ┤/);
    expect(chart.at(-1)).toMatch(/^\s*0\.710 ┼/);
    expect(frame(screen)).toMatch(/╭─+╮/);
    expect(frame(screen)).toMatch(/› v3\s+active/);
  }, 30_000);
});

describe("TUI pictures: the off-peak week", () => {
  test("the Jobs screen draws the daemon's hour-of-week scores as a heat map with the windows marked", async () => {
    // Quiet in the small hours, busy otherwise; the window is Sunday 02:00–05:00.
    const hour_scores = Array.from({ length: 168 }, (_, hour) => (hour % 24 < 6 ? 0.1 : hour % 24 < 9 ? 0.5 : 0.95));
    const offPeak = () => ({ windows: ["Sun 02:00–05:00"], hour_scores, window_hours: [2, 3, 4] });
    const screen = await tuiOn({ offPeak });
    await press(screen, "4", () => frame(screen).includes("off-peak window"));
    expect(frame(screen)).toContain("Sun   ··WWW·▒▒▒███████████████");
    expect(frame(screen)).toContain("Mon   ······▒▒▒███████████████");
    expect(frame(screen)).toContain("Sat   ······▒▒▒███████████████");
    expect(frame(screen)).toContain("off-peak windows: Sun 02:00–05:00");
  }, 30_000);

  test("the renderer edgetrain plan shares shades 0…1 scores and marks the window hours", () => {
    const lines = weekHeatMap(
      Array.from({ length: 168 }, () => 0.5),
      [0, 167],
    );
    expect(lines[0]).toBe("      0  3  6  9  12 15 18 21 ");
    expect(lines[1]).toBe("Sun   W▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒");
    expect(lines[7]).toBe("Sat   ▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒W");
  });
});

describe("TUI pictures: the last hour", () => {
  test("the overview draws the daemon's hour of readings as soon as it attaches, before any event", async () => {
    // A CPU that climbed through the hour while memory stayed flat; kept by the daemon, not the TUI.
    const points = Array.from({ length: 120 }, (_, i) => ({
      at: new Date(Date.parse("2026-12-04T09:00:00Z") + i * 30_000).toISOString(),
      cpu_percent: (i * 100) / 119,
      memory_percent: 50,
    }));
    const screen = await tuiOn({ history: () => ({ step_s: 30, span_s: 3600, points }) });
    await waitUntil(() => frame(screen).includes("CPU 1h"), 5000);
    const cpu = /CPU 1h\s+(\S+)\s+60 min, 30 s steps/.exec(frame(screen))?.[1] ?? "";
    const mem = /MEM 1h\s+(\S+)\s+60 min, 30 s steps/.exec(frame(screen))?.[1] ?? "";
    // 120 steps squeezed into the sparkline's 60 columns: rising from ▁ to █; memory level at ▅.
    expect(cpu.length).toBe(60);
    expect([cpu[0], cpu.at(-1)]).toEqual(["▁", "█"]);
    expect([...cpu].every((block, i) => i === 0 || block >= cpu[i - 1]!)).toBe(true);
    expect(mem).toBe("▅".repeat(60));
    expect(frame(screen)).not.toContain("GPU 1h");
  }, 30_000);
});

describe("TUI pictures: pending copies", () => {
  test("the overview lists the copies waiting for their predictors, and why", async () => {
    const copy = {
      model: "activity-player_1",
      version: 3,
      job: "activity",
      key: "player_1",
      target: "/srv/updated/player_1.onnx",
      since: "2026-12-04T10:00:00.000Z",
      attempts: 0,
      reason: "gave up after 5m: player-dashboard (hold pid 412) still predicting",
    };
    const second = { ...copy, model: "activity-player_2", target: "/srv/updated/player_2.onnx", restore: true };
    const copies = [{ ...copy, restore: false }, second];
    const screen = await tuiOn({ status: () => ({ ...STATUS, copies }) });
    await waitUntil(() => frame(screen).includes("Pending copies (2)"), 5000);
    expect(frame(screen)).toContain("Pending copies (2): retried when their predictors go quiet");
    const first = "activity-player_1 v3 → /srv/updated/player_1.onnx — gave up after 5m: player-dashboard";
    expect(frame(screen)).toContain(first);
    expect(frame(screen)).toContain("rollback of activity-player_2 to v3 → /srv/updated/player_2.onnx");
  }, 30_000);
});

describe("TUI: the latency guard", () => {
  test("the overview shows the serving thread's p99 against its target, and the guard's hold on training", async () => {
    let guard = STATUS.governor.latency_guard;
    const screen = await tuiOn({
      status: () => ({ ...STATUS, governor: { ...STATUS.governor, latency_guard: guard } }),
    });
    await waitUntil(() => frame(screen).includes("p99 1.2 ms (target 3.0 ms)"), 5000);
    guard = { ...guard, threads_per_run: 1, p99_ms: 4.2, reason: "serving delay p99 4.20 ms > 3.00 ms" };
    await waitUntil(
      () => frame(screen).includes("latency guard: 1 thread(s) per run (p99 4.2 ms, target 3.0 ms)"),
      5000,
    );
    guard = { ...guard, duty: 0.5 };
    await waitUntil(
      () => frame(screen).includes("latency guard: 1 thread 50 % of the time (p99 4.2 ms, target 3.0 ms)"),
      5000,
    );
    guard = { ...guard, threads_per_run: 0, duty: null };
    await waitUntil(() => frame(screen).includes("latency guard: runs paused (p99 4.2 ms, target 3.0 ms)"), 5000);
  }, 30_000);
});

describe("TUI keys, filter and order", () => {
  test("j and k move the selection as the arrows do", async () => {
    const screen = await tuiOn();
    await press(screen, "3", () => selected(screen) === "activity-player_1");
    await press(screen, "j", () => selected(screen) === "activity-player_2");
    await press(screen, "j", () => selected(screen) === "activity-player_10");
    await press(screen, "k", () => selected(screen) === "activity-player_2");
    await press(screen, KEYS.down, () => selected(screen) === "activity-player_10");
    await press(screen, KEYS.up, () => selected(screen) === "activity-player_2");
    await press(screen, "4", () => frame(screen).includes("STRATEGY"));
    expect(selected(screen)).toBe("activity");
  }, 30_000);

  test("keys that come in one read are taken one by one, each seeing what the key before it did", async () => {
    // Fast typing, key repeat, tmux send-keys or a slow link hand the TUI several keys in one read.
    const screen = await tuiOn();
    await press(screen, "3jj", () => selected(screen) === "activity-player_10");
    // Arrows come as escape sequences between the letters, and keep their place in the line.
    await press(screen, `k${KEYS.down}${KEYS.down}`, () => selected(screen) === "coach-day");
    // Text after / goes into the filter; Enter keeps it, and the j after it moves within what it leaves.
    await press(
      screen,
      "/play 1\rj",
      () =>
        frame(screen).includes("/play 1") &&
        frame(screen).includes("/ change") &&
        selected(screen) === "activity-player_10",
    );
    expect(frame(screen)).not.toContain("coach-day");
    // Esc goes alone: Esc and a key in one read are Alt and that key, in any terminal program.
    await press(screen, KEYS.escape, () => frame(screen).includes("coach-day"));
    await press(screen, "/coach", () => frame(screen).includes("/coach") && selected(screen) === "coach-day");
    expect(frame(screen)).not.toContain("activity-player_");
  }, 30_000);

  test("models keep the daemon's natural order: player_2 before player_10", async () => {
    const screen = await tuiOn();
    await press(screen, "3", () => frame(screen).includes("coach-day"));
    const names = frame(screen).match(/activity-player_\d+|coach-day/g);
    expect(names).toEqual(["activity-player_1", "activity-player_2", "activity-player_10", "coach-day"]);
  }, 30_000);

  test("/ filters a list by name; its letters are text, Enter keeps it, Esc clears it", async () => {
    const screen = await tuiOn({ runs: () => [RUN, { ...RUN, id: "r9", job: "nightly", key: null }] });
    await press(screen, "3", () => frame(screen).includes("coach-day"));
    await press(screen, "/", () => frame(screen).includes("Enter keep"));
    // q, digits and j are typed, not obeyed.
    for (const key of ["q", "1"])
      await press(screen, key, () => frame(screen).includes(`/${key === "q" ? "q" : "q1"}`));
    expect(frame(screen)).not.toContain("activity-player_");
    expect(frame(screen)).toContain("nothing matches /q1 · Esc clears the filter");
    await press(screen, KEYS.backspace, () => frame(screen).includes("/q "));
    await press(screen, KEYS.backspace, () => frame(screen).includes("coach-day"));
    for (const key of "play 1") screen.stdin.write(key);
    await waitUntil(() => frame(screen).includes("/play 1") && !frame(screen).includes("coach-day"), 5000);
    expect(frame(screen).match(/activity-player_\d+/g)).toEqual(["activity-player_1", "activity-player_10"]);
    await press(screen, KEYS.enter, () => frame(screen).includes("/ change"));
    // Kept: j moves again, within what the filter leaves.
    await press(screen, "j", () => selected(screen) === "activity-player_10");
    // Each list has its own filter.
    await press(screen, "2", () => frame(screen).includes("nightly"));
    await press(screen, "/", () => frame(screen).includes("Enter keep"));
    for (const key of "night") screen.stdin.write(key);
    await waitUntil(() => frame(screen).includes("/night") && !frame(screen).includes("player_1"), 5000);
    await press(screen, "3", () => frame(screen).includes("/night3"));
    await press(screen, KEYS.escape, () => frame(screen).includes("player_1") && !frame(screen).includes("/night"));
    await press(screen, "3", () => frame(screen).includes("/play 1") && !frame(screen).includes("coach-day"));
    await press(screen, KEYS.escape, () => frame(screen).includes("coach-day") && !frame(screen).includes("/play"));
  }, 30_000);
});
