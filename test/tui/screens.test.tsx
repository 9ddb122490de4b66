import { afterEach, describe, expect, test } from "bun:test";
import { render } from "ink-testing-library";
import { createApp } from "../../runtime/api/app.ts";
import type { DaemonView } from "../../runtime/api/daemon-view.ts";
import { App } from "../../tui/app.tsx";
import { fakeDaemon, TOKEN } from "../api/fake-daemon.ts";
import { waitUntil } from "../helpers.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const KEYS = { up: "\u001B[A", down: "\u001B[B", escape: "\u001B", enter: "\r", backspace: "\u007F" };

const model = (name: string) => ({ model: name, active: 1, versions: 1, latest: 1, job: "activity", key: name.slice(9), metrics: { accuracy: 0.8 } });
/** In the order the daemon's store lists them: people's order, not SQLite's. */
const MODELS = ["activity-player_1", "activity-player_2", "activity-player_10", "coach-day"].map(model);

/** The real app and routes over loopback, in front of a fake daemon with fixed answers; the TUI attached to it. */
async function tuiOn(overrides: Partial<DaemonView> = {}) {
  const { view } = fakeDaemon({ models: () => MODELS, conflicts: () => [], ...overrides });
  const app = createApp(view).listen({ hostname: "127.0.0.1", port: 0 });
  cleanups.push(() => app.stop(true));
  const screen = render(<App connection={{ url: `http://127.0.0.1:${app.server!.port}`, token: TOKEN }} color={false} refreshMs={100} />);
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
