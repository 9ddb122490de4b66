import { describe, expect, test } from "bun:test";
import type { ResourceHistory } from "../../runtime/api/contract.ts";
import { startDaemonProcess, tempDir, waitUntil } from "../helpers.ts";

describe("GET /v1/history on a real daemon", () => {
  test("the daemon keeps its readings in 30 s steps for any client to read later", async () => {
    await using dir = tempDir();
    const profile = dir.write("p.yaml", "extends: base\ngovernor: { sample_interval: 100ms }\n");
    const daemon = await startDaemonProcess(dir.path, ["--home", dir.path, "--profile", profile]);
    try {
      const read = async () => (await (await fetch(`${daemon.url}/v1/history`)).json()) as ResourceHistory;
      let history = await read();
      await waitUntil(async () => (history = await read()).points.length > 0, 10_000);
      expect([history.step_s, history.span_s]).toEqual([30, 3600]);
      const [first] = history.points;
      expect(Date.parse(first!.at) % 30_000).toBe(0);
      expect(first!.cpu_percent).toBeGreaterThanOrEqual(0);
      expect(first!.memory_percent).toBeGreaterThan(0);
      expect(first!.memory_percent).toBeLessThanOrEqual(100);
      // A client that asks again (a TUI started afresh) gets the same steps: the daemon holds them.
      expect((await read()).points[0]!.at).toBe(first!.at);
    } finally {
      daemon.proc.kill("SIGTERM");
      await daemon.proc.exited;
    }
  }, 30_000);
});
