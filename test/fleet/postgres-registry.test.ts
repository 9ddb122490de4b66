import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { SQL } from "bun";
import { openPostgresRegistry } from "../../runtime/fleet/hub/postgres-registry.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import { postgresBinaries, startPostgres } from "../db-servers.ts";
import { repoRoot, tempDir, waitUntil } from "../helpers.ts";
import { api, onnxFile, startHub } from "./hub-fixture.ts";
import { type PlayDevice, playDevice } from "./play-device.ts";

const count = async (sql: SQL, table: string, where = "TRUE") =>
  Number(((await sql.unsafe(`SELECT count(*) AS n FROM ${table} WHERE ${where}`)) as Array<{ n: string }>)[0]!.n);

describe.skipIf(!postgresBinaries())("hub registry in PostgreSQL (--database)", () => {
  test("devices, info, rollouts and deployments live in PostgreSQL; a hub of another home sees them", async () => {
    await using postgres = await startPostgres();
    await using first = tempDir();
    await using second = tempDir();
    const sql = new SQL(postgres.url);
    const devices: PlayDevice[] = [];
    try {
      // A hub that kept its registry in its home's hub.db takes it along to an empty PostgreSQL.
      {
        await using hub = await startHub(first.path);
        devices.push(await playDevice(hub.brokerUrl, "dev-a", { groups: ["lab"] }));
        await waitUntil(() => hub.registry.device("dev-a")?.groups.length === 1);
        await devices.pop()!.close();
      }
      await using hub = await startHub(first.path, { database: postgres.url });
      expect(hub.registry.device("dev-a")).toMatchObject({ name: "dev-a.lab", groups: ["lab"] });
      for (const id of ["dev-b", "dev-c"]) devices.push(await playDevice(hub.brokerUrl, id, { groups: ["lab"] }));
      await waitUntil(() => ["dev-b", "dev-c"].every((id) => hub.registry.device(id)?.name === `${id}.lab`));
      for (const device of devices) await device.heartbeat({ models: { player_1: { version: 1 } } });
      const upload = await fetch(`${hub.url}/v1/fleet/models/player_1`, {
        method: "POST",
        headers: { authorization: `Bearer ${hub.token}` },
        body: Bun.file(onnxFile(first.path)),
      });
      expect(upload.status).toBe(201);
      const rollout = (await api(hub, "POST", "/v1/fleet/rollouts", { model: "player_1", group: "lab", waves: [1] }))
        .json as { id: string };
      await waitUntil(() => devices.every((device) => device.announcements.length > 0));
      for (const device of devices) await device.otaReport(device.announcements[0]!, "activated");
      await devices[0]!.report({
        kind: "score",
        id: "score-b-1",
        device: "dev-b",
        at: new Date().toISOString(),
        run: "run-1",
        job: "nightly",
        model: "player_1",
        version: 1,
        rows: 10,
        files: 1,
        classes: { rest: 3, run: 7 },
        skipped: 0,
      });
      const state = async () => (await api(hub, "GET", `/v1/fleet/rollouts/${rollout.id}`)).json;
      await waitUntil(async () => (await state()).counts.activated === 2);

      // What the API shows is in PostgreSQL, within a flush.
      await waitUntil(async () => (await count(sql, "hub_rollout_devices", "state = 'activated'")) === 2);
      expect(await count(sql, "hub_devices")).toBe(3);
      expect(await count(sql, "hub_device_groups", "name = 'lab'")).toBe(3);
      expect(await count(sql, "hub_devices", "info LIKE '%dev-b.lab%' AND online = 1")).toBe(1);
      expect(await count(sql, "hub_model_files", "model = 'player_1'")).toBe(1);
      expect(await count(sql, "hub_reports", "kind = 'ota'")).toBe(2);
      expect(await count(sql, "hub_heartbeats")).toBe(2);
      await waitUntil(async () => (await count(sql, "hub_score_summaries", "device = 'dev-b'")) === 1);
      expect(await count(sql, "hub_device_models", "model = 'player_1' AND version = 1")).toBe(3);

      // One hub per database: a second one would overwrite the first one's rows.
      await expect(startHub(second.path, { database: postgres.url })).rejects.toThrow(/another hub keeps its registry/);
      await Promise.all(devices.splice(0).map((device) => device.close()));
      await hub.stop();

      await using next = await startHub(second.path, { database: postgres.url });
      const listed = (await api(next, "GET", "/v1/fleet/devices?group=lab")).json.devices as Array<{ id: string }>;
      expect(listed.map((device) => device.id)).toEqual(["dev-a", "dev-b", "dev-c"]);
      const detail = (await api(next, "GET", "/v1/fleet/devices/dev-b")).json;
      expect(detail.info).toMatchObject({ name: "dev-b.lab", location: "lab 2" });
      expect(detail.deployments).toEqual([expect.objectContaining({ rollout: rollout.id, state: "activated" })]);
      expect(detail.heartbeats).toHaveLength(1);
      const scores = (await api(next, "GET", "/v1/fleet/models/player_1/scores")).json;
      expect(scores.devices).toMatchObject([{ device: "dev-b", summaries: [{ report: "score-b-1", rows: 10 }] }]);
      const rollouts = (await api(next, "GET", "/v1/fleet/rollouts")).json.rollouts;
      // dev-a, offline, has its announcement waiting at the broker: the rollout goes on where it was.
      expect(rollouts).toEqual([
        expect.objectContaining({
          id: rollout.id,
          state: "running",
          counts: expect.objectContaining({ activated: 2 }),
        }),
      ]);
    } finally {
      await Promise.all(devices.map((device) => device.close()));
      await sql.close();
    }
  }, 120_000);

  test("a change a hub could not send before it died is sent at its next start", async () => {
    await using postgres = await startPostgres();
    await using home = tempDir();
    // The hub's process dies right after a change, before any flush sends it.
    const script = `
      import { openPostgresRegistry } from ${JSON.stringify(join(repoRoot, "runtime/fleet/hub/postgres-registry.ts"))};
      import { silentLogger } from ${JSON.stringify(join(repoRoot, "runtime/log/logger.ts"))};
      const url = ${JSON.stringify(postgres.url)};
      const registry = await openPostgresRegistry(${JSON.stringify(home.path)}, url, silentLogger);
      registry.recordStatus({ device: "dev-late", state: "online" }, 1000);
      process.kill(process.pid, "SIGKILL");`;
    const died = Bun.spawnSync(["bun", "-e", script], { cwd: repoRoot, stderr: "pipe" });
    expect(died.signalCode).toBe("SIGKILL");
    const sql = new SQL(postgres.url);
    try {
      expect(await count(sql, "hub_devices")).toBe(0);
      const registry = await openPostgresRegistry(home.path, postgres.url, silentLogger);
      try {
        expect(await count(sql, "hub_devices", "id = 'dev-late' AND online = 1")).toBe(1);
        expect(registry.device("dev-late")).toMatchObject({ online: true, status_at: 1000 });
      } finally {
        await registry.close();
      }
    } finally {
      await sql.close();
    }
  }, 60_000);
});
