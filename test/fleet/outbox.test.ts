import { describe, expect, test } from "bun:test";
import type { FleetConfig } from "../../runtime/config/schema.ts";
import { HttpTransport } from "../../runtime/fleet/agent/http-transport.ts";
import { Outbox } from "../../runtime/fleet/agent/outbox.ts";
import type { DeviceReport } from "../../runtime/fleet/protocol.ts";
import type { Logger } from "../../runtime/plugin-api.ts";
import { openState } from "../../runtime/state/database.ts";
import { outboxEntries } from "../../runtime/state/fleet.ts";
import { tempDir, waitUntil } from "../helpers.ts";

function recordingLogger(lines: string[]): Logger {
  const log = (message: string, fields?: Record<string, unknown>) => lines.push(`${message} ${JSON.stringify(fields)}`);
  const logger: Logger = { debug: log, info: log, warn: log, error: log, child: () => logger };
  return logger;
}

const at = new Date().toISOString();
const run = (id: string): DeviceReport => ({
  kind: "run",
  id,
  device: "d1",
  at,
  run: id,
  job: "j",
  state: "succeeded",
});

describe("the device's outbox over HTTP", () => {
  test("a report the hub refuses is dropped with a warning; the reports after it still go", async () => {
    await using dir = tempDir();
    // A hub of an older protocol: it answers 400 to the kind it does not know, and takes the others.
    const taken: string[] = [];
    const hub = Bun.serve({
      port: 0,
      async fetch(request) {
        const report = (await request.json()) as DeviceReport;
        if (report.kind !== "run") return Response.json({ message: "kind: Invalid type" }, { status: 400 });
        taken.push(report.id);
        return Response.json({ ok: true });
      },
    });
    const state = openState(dir.path);
    try {
      const lines: string[] = [];
      const logger = recordingLogger(lines);
      const fleet = { url: `http://127.0.0.1:${hub.port}` } as FleetConfig;
      const transport = new HttpTransport({ fleet, device: "d1", logger });
      transport.start({ connected() {}, announcement() {}, command() {} });
      const outbox = new Outbox(state.db, transport, logger);
      outbox.add({ ...run("r1"), kind: "score" } as unknown as DeviceReport);
      outbox.add(run("r2"));
      outbox.add(run("r3"));
      await waitUntil(() => taken.length === 2 && outboxEntries(state.db).length === 0);
      await outbox.close();
      expect(taken).toEqual(["r2", "r3"]);
      expect(lines.filter((line) => line.startsWith("the fleet hub refused a report"))).toEqual([
        "the fleet hub refused a report; it is dropped " +
          '{"report":"r1","kind":"score","why":"the hub refused it: kind: Invalid type"}',
      ]);
      expect(transport.isConnected()).toBe(true);
    } finally {
      state.db.close();
      hub.stop(true);
    }
  });
});
