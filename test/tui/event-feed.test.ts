import { afterEach, describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import { type DaemonEvent, EventFeed, type LinkState } from "../../tui/connection.ts";
import { startDaemonProcess, tempDir, waitUntil } from "../helpers.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A TCP relay to `port` whose open connections can be cut, as a flaky network would, with the daemon left running. */
function cuttableRelay(port: number) {
  const open = new Set<Socket<{ upstream?: Socket<unknown>; pending: Uint8Array[] }>>();
  const relay = Bun.listen<{ upstream?: Socket<unknown>; pending: Uint8Array[] }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(client) {
        client.data = { pending: [] };
        open.add(client);
        void Bun.connect({
          hostname: "127.0.0.1",
          port,
          socket: {
            data: (_, chunk) => void client.write(chunk),
            close: () => void client.end(),
            error: () => void client.end(),
          },
        }).then((upstream) => {
          client.data.upstream = upstream;
          for (const chunk of client.data.pending.splice(0)) upstream.write(chunk);
        });
      },
      data(client, chunk) {
        if (client.data.upstream) client.data.upstream.write(chunk);
        else client.data.pending.push(new Uint8Array(chunk));
      },
      close(client) {
        open.delete(client);
        client.data.upstream?.end();
      },
    },
  });
  return {
    url: `http://127.0.0.1:${relay.port}`,
    cut() {
      for (const client of open) {
        client.data.upstream?.end();
        client.end();
      }
    },
    stop: () => relay.stop(true),
  };
}

describe("the TUI's event feed", () => {
  test("after a dropped connection it resumes with Last-Event-ID: every id once, none missed", async () => {
    await using dir = tempDir();
    const profile = dir.write("p.yaml", "extends: base\ngovernor: { sample_interval: 100ms }\n");
    const daemon = await startDaemonProcess(dir.path, ["--home", dir.path, "--profile", profile]);
    cleanups.push(async () => {
      daemon.proc.kill("SIGTERM");
      await daemon.proc.exited;
    });
    const relay = cuttableRelay(daemon.listening.port);
    cleanups.push(() => relay.stop());
    const events: DaemonEvent[] = [];
    const states: LinkState[] = [];
    const feed = new EventFeed(
      { url: relay.url },
      (event) => events.push(event),
      (state) => states.push(state),
    );
    feed.start();
    cleanups.push(() => feed.stop());
    await waitUntil(() => events.length >= 3, 10_000);
    relay.cut();
    await waitUntil(() => states.includes("reconnecting"), 10_000);
    const before = events.length;
    await waitUntil(() => states.at(-1) === "live" && events.length >= before + 5, 10_000);

    const ids = events.map((event) => event.id!);
    expect(ids.every((id) => Number.isInteger(id))).toBe(true);
    // The readings emitted while it was away came back in order: each id is the one after the last.
    expect(ids.slice(1).map((id, i) => id - ids[i]!)).toEqual(ids.slice(1).map(() => 1));
    expect(events.some((event) => event.type === "reset")).toBe(false);
  }, 30_000);
});
