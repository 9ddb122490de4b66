import { describe, expect, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { type HeartbeatAnswer, httpRoutes } from "../../runtime/fleet/protocol.ts";
import { trustedKey, verifyMessage } from "../../runtime/fleet/signing.ts";
import { tempDir, waitUntil } from "../helpers.ts";
import { api, onnxFile, startHub } from "./hub-fixture.ts";
import { playDevice } from "./play-device.ts";

const info = (device: string) => ({
  device,
  name: device,
  groups: ["remote"],
  edgetrain_version: "0.0.0-test",
  profile: "base",
  hardware: {},
  models: [],
  at: new Date().toISOString(),
});

describe("hub HTTP transport and downloads", () => {
  test("a device without a broker registers, heartbeats, gets its update and command, reports", async () => {
    await using home = tempDir();
    await using hub = await startHub(home.path);
    const post = (path: string, body: unknown, key = hub.deviceKey) =>
      fetch(hub.url + path, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    expect((await post(httpRoutes.register, info("site-1"), "wrong")).status).toBe(401);
    const nested = { ...info("site-1"), hardware: { cpu: JSON.parse(`${"[".repeat(2000)}${"]".repeat(2000)}`) } };
    const deep = await post(httpRoutes.register, nested);
    expect({ status: deep.status, text: await deep.text() }).toEqual({
      status: 400,
      text: expect.stringContaining("nested deeper than 32 levels"),
    });
    expect(hub.registry.device("site-1")).toBeUndefined();
    expect((await post(httpRoutes.register, info("site-1"))).status).toBe(200);
    const beat = { device: "site-1", at: new Date().toISOString(), seq: 1 };
    let answer = (await (await post(httpRoutes.heartbeat("site-1"), beat)).json()) as HeartbeatAnswer;
    expect(answer).toEqual({ pending: [], commands: [] });
    expect((await post(httpRoutes.heartbeat("site-1"), { ...beat, device: "site-2" })).status).toBe(400);
    expect(hub.registry.device("site-1")).toMatchObject({ transport: "http", online: true, groups: ["remote"] });

    await fetch(`${hub.url}/v1/fleet/models/player_1`, {
      method: "POST",
      headers: { authorization: `Bearer ${hub.token}` },
      body: readFileSync(onnxFile(home.path)),
    });
    const rollout = (await api(hub, "POST", "/v1/fleet/rollouts", { model: "player_1", waves: [1] })).json;
    const command = await api(hub, "POST", "/v1/fleet/commands", {
      device: "site-1",
      command: "train",
      args: { job: "activity" },
    });
    expect(command.status).toBe(201);
    answer = (await (await post(httpRoutes.heartbeat("site-1"), { ...beat, seq: 2 })).json()) as HeartbeatAnswer;
    const trusted = [trustedKey(hub.keys.publicKey)!];
    expect(answer.pending).toHaveLength(1);
    expect(answer.pending[0]).toMatchObject({ device: "site-1", rollout: rollout.id, version: 1 });
    expect(verifyMessage(answer.pending[0]!, trusted)).toBe(true);
    expect(answer.commands).toEqual([
      expect.objectContaining({ id: command.json.id, command: "train", args: { job: "activity" } }),
    ]);
    expect(verifyMessage(answer.commands[0]!, trusted)).toBe(true);
    // A command is handed over once; the update stays pending until the device answers it.
    answer = (await (await post(httpRoutes.heartbeat("site-1"), { ...beat, seq: 3 })).json()) as HeartbeatAnswer;
    expect(answer.commands).toEqual([]);
    expect(answer.pending).toHaveLength(1);

    const at = new Date().toISOString();
    const report = {
      kind: "ota",
      id: "site-1-ota-1",
      device: "site-1",
      at,
      rollout: rollout.id,
      model: "player_1",
      version: 1,
      outcome: "activated",
    };
    expect((await post(httpRoutes.reports("site-1"), report)).status).toBe(200);
    expect((await post(httpRoutes.reports("site-1"), report)).status).toBe(200);
    const result = {
      kind: "command",
      id: "site-1-cmd-1",
      device: "site-1",
      at,
      command_id: command.json.id,
      command: "train",
      ok: true,
      result: { run: "r-9" },
    };
    expect((await post(httpRoutes.reports("site-1"), result)).status).toBe(200);
    answer = (await (await post(httpRoutes.heartbeat("site-1"), { ...beat, seq: 4 })).json()) as HeartbeatAnswer;
    expect(answer.pending).toEqual([]);
    expect((await api(hub, "GET", `/v1/fleet/rollouts/${rollout.id}`)).json).toMatchObject({
      state: "completed",
      counts: { activated: 1 },
    });
    expect((await api(hub, "GET", `/v1/fleet/commands/${command.json.id}`)).json).toMatchObject({
      state: "done",
      result: { run: "r-9" },
    });
  });

  test("a device on the HTTP transport, silent for 90 s, is offline until its next heartbeat", async () => {
    await using home = tempDir();
    let now = Date.now();
    await using hub = await startHub(home.path, { now: () => now });
    const post = (path: string, body: unknown) =>
      fetch(hub.url + path, {
        method: "POST",
        headers: { authorization: `Bearer ${hub.deviceKey}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    await post(httpRoutes.register, info("site-3"));
    await post(httpRoutes.heartbeat("site-3"), { device: "site-3", at: new Date(now).toISOString(), seq: 1 });
    expect(hub.registry.device("site-3")?.online).toBe(true);
    now += 60_000;
    hub.tick();
    expect(hub.registry.device("site-3")?.online).toBe(true);
    now += 31_000;
    hub.tick();
    expect(hub.registry.device("site-3")?.online).toBe(false);
    await post(httpRoutes.heartbeat("site-3"), { device: "site-3", at: new Date(now).toISOString(), seq: 2 });
    expect(hub.registry.device("site-3")?.online).toBe(true);
  });

  test("commands over MQTT are signed; an unknown device or command is refused", async () => {
    await using home = tempDir();
    await using hub = await startHub(home.path);
    const device = await playDevice(hub.brokerUrl, "orin-5");
    try {
      await waitUntil(() => hub.registry.device("orin-5") !== undefined);
      const sent = await api(hub, "POST", "/v1/fleet/commands", {
        device: "orin-5",
        command: "activate",
        args: { model: "player_1", version: 2 },
      });
      expect(sent.status).toBe(201);
      await waitUntil(() => device.commands.length === 1);
      const command = device.commands[0]!;
      expect(command).toMatchObject({
        type: "command",
        device: "orin-5",
        command: "activate",
        args: { model: "player_1", version: 2 },
      });
      expect(verifyMessage(command, [trustedKey(hub.keys.publicKey)!])).toBe(true);
      expect(Date.parse(command.expires_at)).toBeGreaterThan(Date.parse(command.issued_at));
      expect((await api(hub, "POST", "/v1/fleet/commands", { device: "ghost", command: "logs" })).status).toBe(404);
      expect((await api(hub, "POST", "/v1/fleet/commands", { device: "orin-5", command: "format-disk" })).status).toBe(
        400,
      );
      const anonymous = await fetch(`${hub.url}/v1/fleet/commands`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ device: "orin-5", command: "logs" }),
      });
      expect(anonymous.status).toBe(401);
    } finally {
      await device.close();
    }
  });

  test("the model file downloads with the device's token, resumes with Range, and refuses a wrong token", async () => {
    await using home = tempDir();
    await using hub = await startHub(home.path);
    const device = await playDevice(hub.brokerUrl, "orin-6");
    try {
      await waitUntil(() => hub.registry.device("orin-6") !== undefined);
      const file = onnxFile(home.path, "big.onnx", 40_000);
      const bytes = readFileSync(file);
      await fetch(`${hub.url}/v1/fleet/models/player_1`, {
        method: "POST",
        headers: { authorization: `Bearer ${hub.token}` },
        body: bytes,
      });
      await api(hub, "POST", "/v1/fleet/rollouts", { model: "player_1", waves: [1] });
      await waitUntil(() => device.announcements.length === 1);
      const url = device.announcements[0]!.url;
      const whole = await fetch(url);
      expect(whole.status).toBe(200);
      expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true);
      const rest = await fetch(url, { headers: { range: "bytes=1000-" } });
      expect(rest.status).toBe(206);
      expect(rest.headers.get("content-range")).toBe(`bytes 1000-${bytes.length - 1}/${bytes.length}`);
      expect(Buffer.from(await rest.arrayBuffer()).equals(bytes.subarray(1000))).toBe(true);
      expect((await fetch(url, { headers: { range: `bytes=${bytes.length}-` } })).status).toBe(416);
      expect((await fetch(url.replace(/token=[^&]+/, "token=forged"))).status).toBe(401);
      // Another device's token does not open this one's file.
      expect((await fetch(url.replace("device=orin-6", "device=orin-7"))).status).toBe(401);
    } finally {
      await device.close();
    }
  });

  test("on loopback, reads need no token, changes do, and a foreign Host is refused", async () => {
    await using home = tempDir();
    await using hub = await startHub(home.path);
    expect((await fetch(`${hub.url}/v1/fleet/rollouts`)).status).toBe(200);
    const change = await fetch(`${hub.url}/v1/fleet/rollbacks`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "player_1" }),
    });
    expect(change.status).toBe(401);
    const rebound = await fetch(`${hub.url}/v1/fleet/devices`, { headers: { host: "evil.example" } });
    expect(rebound.status).toBe(403);
    expect((await api(hub, "POST", "/v1/fleet/rollouts/r-none/pause")).status).toBe(404);
  });

  test("beyond loopback every route needs the token, and announcements carry --public-url", async () => {
    await using home = tempDir();
    await using hub = await startHub(home.path, { host: "0.0.0.0", publicUrl: "https://hub.lab.example" });
    expect(hub.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${hub.url}/v1/fleet/devices`)).status).toBe(401);
    expect((await fetch(`${hub.url}/health`)).status).toBe(200);
    const device = await playDevice(hub.brokerUrl, "orin-8");
    try {
      await waitUntil(() => hub.registry.device("orin-8") !== undefined);
      const upload = await fetch(`${hub.url}/v1/fleet/models/player_1`, {
        method: "POST",
        headers: { authorization: `Bearer ${hub.token}` },
        body: readFileSync(onnxFile(home.path)),
      });
      expect(upload.status).toBe(201);
      await api(hub, "POST", "/v1/fleet/rollouts", { model: "player_1", waves: [1] });
      await waitUntil(() => device.announcements.length === 1);
      expect(device.announcements[0]!.url).toStartWith(
        "https://hub.lab.example/v1/fleet/files/player_1/1?device=orin-8&token=",
      );
    } finally {
      await device.close();
    }
  });

  test("the hub key is made once, mode 0600, and its public half is printed for fleet.trust", async () => {
    await using home = tempDir();
    let publicKey: string;
    {
      await using hub = await startHub(home.path);
      publicKey = hub.keys.publicKey;
    }
    expect(statSync(join(home.path, "hub.key")).mode & 0o777).toBe(0o600);
    expect(statSync(join(home.path, "hub.token")).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(home.path, "hub.key"), "utf8")).toStartWith("-----BEGIN PRIVATE KEY-----");
    expect(publicKey).toMatch(/^ed25519:[A-Za-z0-9+/]{43}=$/);
    await using again = await startHub(home.path);
    expect(again.keys.publicKey).toBe(publicKey);
  });
});
