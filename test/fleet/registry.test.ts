import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { PostgresHeartbeats } from "../../runtime/fleet/hub/heartbeat-series.ts";
import { Registry } from "../../runtime/fleet/hub/registry.ts";
import { registryMigrations } from "../../runtime/fleet/hub/registry-migrations.ts";
import { migrate } from "../../runtime/state/database.ts";
import { postgresBinaries, startPostgres } from "../db-servers.ts";
import { tempDir } from "../helpers.ts";

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const now = Date.UTC(2026, 11, 4, 12, 0, 0);

const beat = (device: string, seq: number) => ({ device, at: new Date(now).toISOString(), seq });

describe("hub registry database", () => {
  async function keepsAndThins(registry: Registry) {
    // Two days ago: 6 a minute for 3 minutes; twelve hours ago: 6 a minute; ten days ago: one.
    for (const [device, base] of [
      ["a", now - 2 * DAY],
      ["b", now - 2 * DAY],
      ["a", now - DAY / 2],
    ] as const) {
      for (let i = 0; i < 18; i++) registry.recordHeartbeat(beat(device, i), base + i * 10_000);
    }
    registry.recordHeartbeat(beat("a", 99), now - 10 * DAY);
    expect(await registry.heartbeatCount()).toBe(55);
    const { removed, downsampled } = await registry.maintain(now, 7);
    expect(removed).toBe(1 + 2 * 15);
    expect(downsampled).toBe(30);
    expect(await registry.heartbeatCount("a")).toBe(3 + 18);
    expect(await registry.heartbeatCount("b")).toBe(3);
    // A second pass changes nothing: the minutes already thinned keep their one heartbeat.
    expect(await registry.maintain(now, 7)).toEqual({ removed: 0, downsampled: 0 });
    const [latest] = await registry.heartbeats("a", 1);
    expect(latest).toMatchObject({ device: "a", seq: 17, received_at: now - DAY / 2 + 17 * 10_000 });
    // Devices and their last heartbeat stay in the registry's own database.
    expect(registry.device("a")?.last_heartbeat_at).toBe(now - DAY / 2 + 17 * 10_000);
  }

  test("heartbeats are kept keep_days, and one a minute per device past the first day", async () => {
    await using dir = tempDir();
    const registry = Registry.inHome(dir.path);
    try {
      await keepsAndThins(registry);
    } finally {
      await registry.close();
    }
  });

  test.skipIf(!postgresBinaries())(
    "with --database postgres://, the heartbeats' series lives in PostgreSQL",
    async () => {
      await using dir = tempDir();
      await using postgres = await startPostgres();
      const series = new PostgresHeartbeats(postgres.url, (error) => {
        throw error;
      });
      await series.open();
      const registry = Registry.inHome(dir.path, () => series);
      try {
        await keepsAndThins(registry);
        const sqlite = registry.db.query<{ n: number }, []>("SELECT count(*) AS n FROM heartbeats").get()!.n;
        expect(sqlite).toBe(0);
      } finally {
        await registry.close();
      }
    },
    60_000,
  );

  test("a report id is accepted once", async () => {
    await using dir = tempDir();
    const registry = Registry.inHome(dir.path);
    try {
      const report = {
        kind: "run" as const,
        id: "rep-1",
        device: "a",
        at: new Date(now).toISOString(),
        run: "r1",
        job: "j",
        state: "succeeded",
      };
      expect(registry.acceptReport(report, now)).toBe(true);
      expect(registry.acceptReport(report, now + 1)).toBe(false);
      expect(statSync(join(dir.path, "hub.db")).isFile()).toBe(true);
    } finally {
      await registry.close();
    }
  });

  test("an older registry's versions serve as both numbers until the device says", async () => {
    await using dir = tempDir();
    const file = join(dir.path, "hub.db");
    const older = new Database(file, { create: true, strict: true });
    migrate(older, file, registryMigrations.slice(0, 2));
    older.exec(`INSERT INTO devices (id, registered_at) VALUES ('a', ${now});
      INSERT INTO device_models (device, model, version, updated_at) VALUES ('a', 'm', 6, ${now});
      INSERT INTO score_summaries (report, device, model, version, at, received_at, data)
        VALUES ('s-1', 'a', 'm', 6, ${now}, ${now}, '{"run":"r","job":"j","rows":4,"files":1,"skipped":0}')`);
    older.close();
    const registry = new Registry(file);
    try {
      expect(registry.device("a")?.models).toEqual([{ model: "m", version: 6, local_version: 6, metrics: null }]);
      const scores = registry.scores.ofModel("m", { limit: 10 });
      expect(scores.devices[0]!.summaries).toEqual([expect.objectContaining({ version: 6, local_version: 6 })]);
      expect(scores.versions).toEqual([expect.objectContaining({ version: 6, runs: 1, rows: 4 })]);
      registry.recordHeartbeat({ ...beat("a", 1), models: { m: { version: 6, fleet_version: 1 } } }, now);
      expect(registry.devices({ model: "m", version: 1 }).map((device) => device.models)).toEqual([
        [{ model: "m", version: 1, local_version: 6, metrics: null }],
      ]);
    } finally {
      await registry.close();
    }
  });
});
