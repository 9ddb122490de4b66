import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Daemon } from "../../runtime/daemon.ts";
import type { BusEvent } from "../../runtime/events/bus.ts";
import { tempDir, testEnvironment, waitUntil } from "../helpers.ts";

describe("a command trainer's log, live", () => {
  test("reaches the run record and the event stream while the run trains", async () => {
    await using dir = tempDir();
    const home = join(dir.path, "home");
    const go = join(dir.path, "go");
    // The trainer logs, then waits for the test to have seen its lines before it writes its model.
    const trainer =
      `echo loading data; echo 400 rows >&2; while [ ! -f ${go} ]; do sleep 0.05; done; ` +
      `echo '{"event":"artifact","path":"model.onnx"}'; touch model.onnx`;
    const profile = dir.write(
      "profile.yaml",
      `paths: { home: ${home} }\napi: { port: 0 }\n` +
        "governor: { max_cpu_before: 100, max_memory_before: 100, pause_cpu: 100, pause_memory: 100 }\n" +
        `jobs:\n  external:\n    strategy: command\n    options: { command: ${JSON.stringify(trainer)} }\n    ` +
        `deploy: []\n`,
    );
    const daemon = await Daemon.start({ profile, environment: testEnvironment(home), headless: true });
    const events: BusEvent[] = [];
    daemon.bus.subscribe((event) => events.push(event));
    try {
      const url = daemon.address().url;
      const queued = await fetch(`${url}/v1/jobs/external/run`, {
        method: "POST",
        headers: { authorization: `Bearer ${daemon.token()}` },
      });
      expect(queued.status).toBe(202);
      type Run = { id: string; status: string; details: { log_tail: string[] } };
      const latest = async () => {
        const { runs } = (await (await fetch(`${url}/v1/runs?job=external`)).json()) as { runs: Array<{ id: string }> };
        return runs[0] && ((await (await fetch(`${url}/v1/runs/${runs[0].id}`)).json()) as Run);
      };
      await waitUntil(async () => (await latest())?.details.log_tail.includes("400 rows") ?? false, 20_000);
      const running = (await latest())!;
      expect(running.status).toBe("running");
      expect(running.details.log_tail).toEqual(["loading data", "400 rows"]);
      const lines = events.filter((e) => e.type === "run.log").map((e) => e.data);
      expect(lines).toMatchObject([
        { run: running.id, worker: 0, line: "loading data" },
        { run: running.id, worker: 0, line: "400 rows" },
      ]);
      await Bun.write(go, "");
      await waitUntil(async () => (await latest())?.status === "succeeded", 20_000);
    } finally {
      await daemon.stop();
    }
  }, 60_000);
});
