import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import mqtt from "mqtt";
import { topics } from "../../runtime/fleet/protocol.ts";
import { tempDir, waitUntil } from "../helpers.ts";
import { api, onnxFile, startHub } from "./hub-fixture.ts";
import { startMosquitto } from "./mosquitto.ts";
import { playDevice } from "./play-device.ts";

/** The retained message on `topic`, as a device that connects afresh would get it. */
async function retained(url: string, topic: string): Promise<Record<string, unknown> | undefined> {
  const client = mqtt.connect(url, { clientId: `peek-${Math.random()}`, clean: true });
  try {
    return await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 2000);
      client.on("message", (_, payload) => {
        clearTimeout(timer);
        resolve(JSON.parse(payload.toString()));
      });
      client.on("connect", () => client.subscribe(topic, { qos: 1 }));
    });
  } finally {
    client.end(true);
  }
}

test("a broker restart mid-rollout loses nothing and applies nothing twice (real Mosquitto)", async () => {
  await using home = tempDir();
  await using broker = await startMosquitto();
  await using hub = await startHub(home.path, { broker: broker.url });
  const devices = await Promise.all(["a", "b", "c"].map((id) => playDevice(broker.url, `dev-${id}`)));
  try {
    await waitUntil(() => hub.registry.devices().length === 3);
    await fetch(`${hub.url}/v1/fleet/models/player_1`, {
      method: "POST",
      headers: { authorization: `Bearer ${hub.token}` },
      body: readFileSync(onnxFile(home.path)),
    });
    const rollout = (await api(hub, "POST", "/v1/fleet/rollouts", { model: "player_1", waves: [0.3, 1] })).json;
    const [a, b, c] = devices as [(typeof devices)[0], (typeof devices)[0], (typeof devices)[0]];
    await waitUntil(() => a.announcements.length === 1);

    await broker.stop();
    // Sent while the broker is down: the device's client keeps the QoS 1 report and sends it on reconnection.
    await waitUntil(() => !a.client.connected);
    const sending = a.otaReport(a.announcements[0]!, "activated");
    await broker.restart();
    const report = await sending;
    await waitUntil(() => a.client.connected && b.client.connected && c.client.connected, 15_000);
    // The device sends the same report again, as one that never saw the acknowledgement would.
    await a.report(report);
    const state = async () => (await api(hub, "GET", `/v1/fleet/rollouts/${rollout.id}`)).json;
    await waitUntil(async () => (await state()).wave === 2, 15_000);
    await waitUntil(() => b.announcements.length >= 1 && c.announcements.length >= 1, 15_000);
    // The retained announcement of the first wave survived the restart.
    expect(await retained(broker.url, topics.model("dev-a", "player_1"))).toMatchObject({
      rollout: rollout.id,
      device: "dev-a",
      version: 1,
    });
    await b.otaReport(b.announcements.at(-1)!, "activated");
    await c.otaReport(c.announcements.at(-1)!, "activated");
    await waitUntil(async () => (await state()).state === "completed", 15_000);
    expect((await state()).counts).toMatchObject({ activated: 3, failed: 0 });
    const applied = hub.registry.db
      .query<{ n: number }, [string]>("SELECT count(*) AS n FROM reports WHERE device = ?")
      .get("dev-a")!.n;
    expect(applied).toBe(1);
  } finally {
    await Promise.all(devices.map((device) => device.close()));
  }
}, 60_000);

test("a device offline during the rollout catches up from its retained announcement (real Mosquitto)", async () => {
  await using home = tempDir();
  await using broker = await startMosquitto();
  await using hub = await startHub(home.path, { broker: broker.url });
  const online = await playDevice(broker.url, "dev-on");
  let away = await playDevice(broker.url, "dev-away", { clean: true });
  try {
    await waitUntil(() => hub.registry.devices({ online: true }).length === 2);
    away.vanish();
    await waitUntil(() => hub.registry.device("dev-away")?.online === false);
    await fetch(`${hub.url}/v1/fleet/models/player_1`, {
      method: "POST",
      headers: { authorization: `Bearer ${hub.token}` },
      body: readFileSync(onnxFile(home.path)),
    });
    const rollout = (await api(hub, "POST", "/v1/fleet/rollouts", { model: "player_1", waves: [1] })).json;
    await waitUntil(() => online.announcements.length === 1);
    await online.otaReport(online.announcements[0]!, "activated");
    const state = async () => (await api(hub, "GET", `/v1/fleet/rollouts/${rollout.id}`)).json;
    await waitUntil(async () => (await state()).counts.activated === 1);
    expect((await state()).state).toBe("running");

    // A fresh session: nothing queued for it, only the retained message on its model topic.
    away = await playDevice(broker.url, "dev-away", { clean: true });
    await waitUntil(() => away.announcements.length === 1);
    expect(away.announcements[0]).toMatchObject({ rollout: rollout.id, device: "dev-away", version: 1 });
    await away.otaReport(away.announcements[0]!, "activated");
    await waitUntil(async () => (await state()).state === "completed");
    expect(hub.registry.device("dev-away")?.online).toBe(true);
  } finally {
    await online.close();
    await away.close();
  }
}, 60_000);
