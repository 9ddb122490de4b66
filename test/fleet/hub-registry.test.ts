import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import mqtt from "mqtt";
import { topics } from "../../runtime/fleet/protocol.ts";
import { freePort, postgresBinaries, startPostgres } from "../db-servers.ts";
import { tempDir, waitUntil } from "../helpers.ts";
import { api, onnxFile, startHub } from "./hub-fixture.ts";
import { startMosquitto } from "./mosquitto.ts";
import { playDevice } from "./play-device.ts";

describe("hub registry", () => {
  test("devices register and heartbeat through the embedded broker; the API lists and filters them", async () => {
    await using home = tempDir();
    await using hub = await startHub(home.path);
    expect(hub.brokerUrl).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    const orin = await playDevice(hub.brokerUrl, "orin-1", { groups: ["lab-a"] });
    const nano = await playDevice(hub.brokerUrl, "nano-2", { groups: ["lab-b"] });
    try {
      await orin.heartbeat({ models: { player_1: { version: 3, metrics: { accuracy: 0.9 } } } });
      await nano.heartbeat();
      await waitUntil(
        async () => (await hub.registry.heartbeatCount()) === 2 && hub.registry.devices({ online: true }).length === 2,
      );
      const all = await api(hub, "GET", "/v1/fleet/devices");
      expect(all.json.devices.map((d: { id: string }) => d.id)).toEqual(["nano-2", "orin-1"]);
      const labA = await api(hub, "GET", "/v1/fleet/devices?group=lab-a");
      expect(labA.json.devices.map((d: { id: string }) => d.id)).toEqual(["orin-1"]);
      const onV3 = await api(hub, "GET", "/v1/fleet/devices?model=player_1&version=3");
      expect(onV3.json.devices.map((d: { id: string }) => d.id)).toEqual(["orin-1"]);
      const detail = await api(hub, "GET", "/v1/fleet/devices/orin-1");
      expect(detail.json).toMatchObject({
        id: "orin-1",
        name: "orin-1.lab",
        location: "lab 2",
        online: true,
        groups: ["lab-a"],
      });
      expect(detail.json.info.hardware).toEqual({ cpu: "test" });
      expect(detail.json.heartbeats[0]).toMatchObject({ device: "orin-1", cpu_ratio: 0.25 });
      expect((await api(hub, "GET", "/v1/fleet/devices/ghost")).status).toBe(404);
      const metrics = await (await fetch(`${hub.url}/metrics`)).text();
      expect(metrics).toContain('edgetrain_hub_devices{state="online"} 2');
      expect(metrics).toContain("edgetrain_hub_heartbeats_total 2");
      expect(metrics).toContain("edgetrain_hub_heartbeats_per_second");
    } finally {
      await orin.close();
      await nano.close();
    }
  });

  test("a device whose socket dies goes offline through its last will (real Mosquitto)", async () => {
    await using home = tempDir();
    await using broker = await startMosquitto();
    await using hub = await startHub(home.path, { broker: broker.url });
    const device = await playDevice(broker.url, "orin-9");
    await waitUntil(() => hub.registry.device("orin-9")?.online === true);
    device.vanish();
    await waitUntil(() => hub.registry.device("orin-9")?.online === false, 15_000);
    const offline = await api(hub, "GET", "/v1/fleet/devices?online=false");
    expect(offline.json.devices.map((d: { id: string }) => d.id)).toEqual(["orin-9"]);
  });

  test("an id heard only in heartbeats is listed unregistered and left out of rollouts (real Mosquitto)", async () => {
    await using home = tempDir();
    await using broker = await startMosquitto();
    await using hub = await startHub(home.path, { broker: broker.url });
    const device = await playDevice(broker.url, "orin-1");
    const ghost = await mqtt.connectAsync(broker.url, { clientId: "ghost-7" });
    const ghostAnnouncements: string[] = [];
    ghost.on("message", (_topic, payload) => payload.length > 0 && ghostAnnouncements.push(payload.toString()));
    try {
      await ghost.subscribeAsync(topics.models("ghost-7"), { qos: 1 });
      await ghost.publishAsync(topics.status("ghost-7"), JSON.stringify({ device: "ghost-7", state: "online" }));
      const beat = { device: "ghost-7", at: new Date().toISOString(), seq: 1 };
      await ghost.publishAsync(topics.heartbeat("ghost-7"), JSON.stringify(beat));
      await waitUntil(() => hub.registry.device("ghost-7")?.last_heartbeat_at != null);
      await waitUntil(() => hub.registry.device("orin-1")?.registered === true);
      const listed = await api(hub, "GET", "/v1/fleet/devices");
      expect(listed.json.devices).toEqual([
        expect.objectContaining({ id: "ghost-7", registered: false, online: true }),
        expect.objectContaining({ id: "orin-1", registered: true }),
      ]);
      const registered = await api(hub, "GET", "/v1/fleet/devices?registered=true");
      expect(registered.json.devices.map((d: { id: string }) => d.id)).toEqual(["orin-1"]);
      const metrics = await (await fetch(`${hub.url}/metrics`)).text();
      expect(metrics).toContain('edgetrain_hub_devices{state="online"} 1');
      expect(metrics).toContain('edgetrain_hub_devices{state="unregistered"} 1');

      await fetch(`${hub.url}/v1/fleet/models/player_1`, {
        method: "POST",
        headers: { authorization: `Bearer ${hub.token}` },
        body: readFileSync(onnxFile(home.path)),
      });
      const rollout = (await api(hub, "POST", "/v1/fleet/rollouts", { model: "player_1", waves: [0.5, 1] })).json;
      expect(hub.rollouts.targets(rollout.id).map((target) => target.device)).toEqual(["orin-1"]);
      await waitUntil(() => device.announcements.length === 1);
      await device.otaReport(device.announcements[0]!, "activated");
      const state = async () => (await api(hub, "GET", `/v1/fleet/rollouts/${rollout.id}`)).json.state;
      await waitUntil(async () => (await state()) === "completed");
      expect(ghostAnnouncements).toEqual([]);
    } finally {
      await device.close();
      await ghost.endAsync();
    }
  });

  test("a heartbeat queued before a report or a registration does not land after it", async () => {
    await using home = tempDir();
    await using hub = await startHub(home.path);
    const at = new Date().toISOString();
    const beat = (version: number) => ({ device: "d-1", at, seq: version, models: { player_1: { version } } });
    const info = { device: "d-1", name: "d-1", groups: [], edgetrain_version: "t", profile: "base", hardware: {} };
    hub.intake.take("info", "d-1", { ...info, models: [{ model: "player_1", active: 2 }], at }, "mqtt");
    // An outcome counts only for a rollout that announced to the device.
    const file = hub.files.add("player_1", onnxFile(home.path), Date.now(), 4);
    const rollout = hub.rollouts.start(file, { waves: [1], maxFailures: 0, waveTimeoutMs: 60_000 });
    // Both taken in one turn of the event loop, before any flush: the report applies last, as it came.
    hub.intake.take("heartbeat", "d-1", beat(3), "mqtt");
    const report = { kind: "ota", id: "rep-1", device: "d-1", at, rollout: rollout.id, model: "player_1", version: 4 };
    hub.intake.take("reports", "d-1", { ...report, outcome: "activated" }, "mqtt");
    // An older device's report names the hub's version alone.
    expect(hub.registry.device("d-1")?.models).toEqual([
      { model: "player_1", version: 4, local_version: null, metrics: null },
    ]);
    hub.intake.take("heartbeat", "d-1", beat(4), "mqtt");
    hub.intake.take("info", "d-1", { ...info, models: [{ model: "player_1", active: 5 }], at }, "mqtt");
    expect(hub.registry.device("d-1")?.models).toEqual([
      { model: "player_1", version: 5, local_version: 5, metrics: null },
    ]);
  });

  test("a malformed heartbeat, or one naming another device, is dropped and the hub goes on", async () => {
    await using home = tempDir();
    await using hub = await startHub(home.path);
    const device = await playDevice(hub.brokerUrl, "orin-3");
    try {
      device.client.publish("edgetrain/devices/orin-3/heartbeat", "not json");
      device.client.publish(
        "edgetrain/devices/orin-3/heartbeat",
        JSON.stringify({ device: "orin-4", at: new Date().toISOString(), seq: 1 }),
      );
      device.client.publish(
        "edgetrain/devices/orin-3/heartbeat",
        JSON.stringify({ device: "orin-3", at: "yesterday", seq: 1 }),
      );
      await device.heartbeat();
      await waitUntil(async () => (await hub.registry.heartbeatCount()) === 1);
      expect(hub.registry.device("orin-4")).toBeUndefined();
    } finally {
      await device.close();
    }
  });

  test("a run training on a device is followed from the hub: heartbeat, checkpoints, log tail", async () => {
    await using home = tempDir();
    await using hub = await startHub(home.path);
    const device = await playDevice(hub.brokerUrl, "orin-2");
    try {
      const at = new Date().toISOString();
      const send = (event: string, data: Record<string, unknown>) =>
        device.client.publish(
          topics.runs("orin-2"),
          JSON.stringify({ device: "orin-2", run: "run-7", at, event, data }),
        );
      send("heartbeat", { epoch: 3, epochs: 10 });
      send("checkpoint", { epoch: 3, path: "checkpoints/3.pt" });
      for (let line = 0; line < 250; line++) send("log", { line: `epoch 3 batch ${line}` });
      send("heartbeat", { epoch: 4, epochs: 10 });
      send("log", "not an object" as unknown as Record<string, unknown>);
      const runs = async () => (await api(hub, "GET", "/v1/fleet/devices/orin-2/runs")).json.runs;
      await waitUntil(async () => (await runs())[0]?.heartbeat?.epoch === 4);
      const [run] = await runs();
      expect(run).toMatchObject({
        device: "orin-2",
        run: "run-7",
        checkpoints: [{ epoch: 3, path: "checkpoints/3.pt" }],
      });
      expect(run.log).toHaveLength(200);
      expect(run.log.at(-1).data).toEqual({ line: "epoch 3 batch 249" });
      expect((await api(hub, "GET", "/v1/fleet/devices/nano-1/runs")).json.runs).toEqual([]);
    } finally {
      await device.close();
    }
  });

  test("one hub per home: a second is refused while the first runs, and starts once it stopped", async () => {
    await using home = tempDir();
    const first = await startHub(home.path);
    await expect(startHub(home.path)).rejects.toMatchObject({ code: "home_locked" });
    await first.stop();
    await using second = await startHub(home.path);
    expect(second.registry.devices()).toEqual([]);
  });

  test.skipIf(!postgresBinaries())(
    "a hub with --database postgres:// answers heartbeats from PostgreSQL",
    async () => {
      await using home = tempDir();
      await using postgres = await startPostgres();
      await using hub = await startHub(home.path, { database: postgres.url });
      const device = await playDevice(hub.brokerUrl, "orin-4");
      try {
        await device.heartbeat({ temperature_c: 51 });
        await waitUntil(async () => (await api(hub, "GET", "/v1/fleet/devices/orin-4")).json.heartbeats?.length === 1);
        const detail = await api(hub, "GET", "/v1/fleet/devices/orin-4");
        expect(detail.json.heartbeats[0]).toMatchObject({ device: "orin-4", temperature_c: 51 });
        expect(hub.registry.db.query<{ n: number }, []>("SELECT count(*) AS n FROM heartbeats").get()!.n).toBe(0);
      } finally {
        await device.close();
      }
    },
    60_000,
  );

  test("a --database that does not answer stops the hub at start", async () => {
    await using home = tempDir();
    const url = `postgres://edgetrain:pw@127.0.0.1:${await freePort()}/postgres`;
    const failed = await startHub(home.path, { database: url }).catch((error: unknown) => error);
    expect(failed).toMatchObject({ code: "state_failed" });
    expect(String((failed as Error).message)).toContain("postgres://edgetrain:***@127.0.0.1");
  });
});
