import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CommandIo } from "../../runtime/cli/command.ts";
import { tuiConnection } from "../../runtime/cli/commands/tui.ts";
import { ApiError, daemonClient as tuiClient } from "../../tui/connection.ts";
import { runCli, startDaemonProcess, type TempDir, tempDir, testEnvironment } from "../helpers.ts";

type Daemon = Awaited<ReturnType<typeof startDaemonProcess>>;

const start = (home: TempDir, port = 0) =>
  startDaemonProcess(home.path, ["--home", home.path, "--headless", "--port", String(port)]);

async function stop(daemon: Daemon): Promise<void> {
  daemon.proc.kill("SIGTERM");
  await daemon.proc.exited;
}

/**
 * Home A's daemon killed outright (daemon.json left behind), then home B's daemon started on A's port: what
 * answers at A's recorded address is B's.
 */
async function portTakenOver(a: TempDir, b: TempDir, beforeKill: () => void = () => {}) {
  const first = await start(a);
  beforeKill();
  first.proc.kill("SIGKILL");
  await first.proc.exited;
  const second = await start(b, first.listening.port);
  expect(JSON.parse(readFileSync(join(a.path, "daemon.json"), "utf8")).url).toBe(second.url);
  return { first, second };
}

describe("finding the home's daemon", () => {
  test("edgetrain status --home A says no daemon runs on A when A's daemon died and B's took its port", async () => {
    await using a = tempDir();
    await using b = tempDir();
    const { first, second } = await portTakenOver(a, b);
    try {
      const status = await runCli(["status", "--home", a.path], { home: a.path });
      expect(status.code).toBe(1);
      expect(status.stdout).toBe("");
      expect(status.stderr).toContain(
        `no daemon runs on ${a.path}: its daemon.json was left by pid ${first.listening.pid}, which no longer ` +
          "runs there",
      );
      // The same words for the commands that act, before any request reaches B.
      const cancelled = await runCli(["cancel", "20261205-000000-abcdef", "--home", a.path], { home: a.path });
      expect([cancelled.code, cancelled.stderr]).toEqual([1, expect.stringContaining(`no daemon runs on ${a.path}`)]);
      const own = await runCli(["status", "--home", b.path], { home: b.path });
      expect([own.code, own.stdout]).toEqual([0, expect.stringContaining(second.url)]);
    } finally {
      await stop(second);
    }
  }, 60_000);

  test("edgetrain status refuses an answer from a daemon other than the one daemon.json names", async () => {
    await using a = tempDir();
    await using b = tempDir();
    const first = await start(a);
    const second = await start(b);
    try {
      // A's daemon runs, but its daemon.json points at B's port (a hand edit, a copied home).
      const file = join(a.path, "daemon.json");
      writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, "utf8")), url: second.url }));
      const status = await runCli(["status", "--home", a.path], { home: a.path });
      expect(status.code).toBe(1);
      expect(status.stderr).toContain(
        `no daemon runs on ${a.path}: its daemon.json names pid ${first.listening.pid}, but ${second.url} is ` +
          `answered by pid ${second.listening.pid}, the daemon of ${b.path}`,
      );
    } finally {
      await Promise.all([stop(first), stop(second)]);
    }
  }, 60_000);

  test("the TUI attached to home A does not follow A's old port to B's daemon", async () => {
    await using a = tempDir();
    await using b = tempDir();
    const io: CommandIo = {
      stdout: { isTTY: false, write: () => {} },
      stderr: { isTTY: false, write: () => {} },
      environment: testEnvironment(a.path),
      color: false,
    };
    let connection: ReturnType<typeof tuiConnection> | undefined;
    const { second } = await portTakenOver(a, b, () => {
      // What `edgetrain tui --home A` hands the TUI, made while A's daemon runs.
      connection = tuiConnection({ values: { home: a.path }, positionals: [] }, io);
    });
    try {
      const client = tuiClient(connection!);
      const error = await client.answer(client.api.v1.status.get()).then(
        (status) => status,
        (failed: unknown) => failed,
      );
      expect(error).toBeInstanceOf(ApiError);
      expect(error).toMatchObject({ code: "not_found", message: "no daemon runs on the home now" });
      // Started again, A's daemon is found on its new port.
      const again = await start(a);
      try {
        const status = await client.answer(client.api.v1.status.get());
        expect(status.pid).toBe(again.listening.pid);
      } finally {
        await stop(again);
      }
    } finally {
      await stop(second);
    }
  }, 60_000);
});
