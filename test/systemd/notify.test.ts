import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { startDaemonProcess, tempDir } from "../helpers.ts";
import { noPython, notifySocket, python } from "./notify-socket.ts";

const title = "a daemon under systemd says READY=1 once it serves, WATCHDOG=1 from its loop, RELOADING=1, STOPPING=1";
test.skipIf(!python)(
  `${title}${noPython}`,
  async () => {
    await using dir = tempDir();
    const socketPath = join(dir.path, "notify.sock");
    using notify = await notifySocket(socketPath);
    // A watchdog of 0.4 s: WATCHDOG=1 every 0.2 s.
    const env = { NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: "400000" };
    const { proc } = await startDaemonProcess(dir.path, ["--headless"], env);
    try {
      const ready = await notify.next((message) => message.includes("READY=1"));
      expect(ready).toMatch(/^READY=1\nSTATUS=serving on http:\/\/127\.0\.0\.1:\d+$/);
      // READY=1 comes after the address is written, which follows the API listening.
      expect(existsSync(join(dir.path, ".edgetrain/daemon.json"))).toBe(true);
      expect(await notify.next((message) => message === "WATCHDOG=1")).toBe("WATCHDOG=1");
      expect(await notify.next((message) => message === "WATCHDOG=1")).toBe("WATCHDOG=1");

      proc.kill("SIGHUP");
      const reloadOrReady = (message: string) => message.startsWith("RELOADING=1") || message.startsWith("READY=1");
      expect(await notify.next(reloadOrReady)).toBe("RELOADING=1");
      expect(await notify.next((message) => message.startsWith("READY=1"))).toStartWith("READY=1");

      proc.kill("SIGTERM");
      expect(await notify.next((message) => message === "STOPPING=1")).toBe("STOPPING=1");
      expect(await proc.exited).toBe(0);
    } finally {
      proc.kill("SIGKILL");
    }
  },
  60_000,
);

test("a daemon outside systemd (no NOTIFY_SOCKET) starts and stops as before", async () => {
  await using dir = tempDir();
  const { proc } = await startDaemonProcess(dir.path, ["--headless"], { WATCHDOG_USEC: "400000" });
  proc.kill("SIGTERM");
  expect(await proc.exited).toBe(0);
  expect(await new Response(proc.stderr).text()).not.toContain("notify socket");
}, 60_000);
