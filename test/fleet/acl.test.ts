import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { topics } from "../../runtime/fleet/protocol.ts";
import { type ShippedBroker, shippedBrokerUnavailable, startShippedBroker } from "./shipped-broker.ts";

const users = { hub: "hub-secret", "orin-1": "secret-1", "orin-2": "secret-2" };
const NOT_AUTHORIZED = 0x87;
const deviceTopics = (device: string) =>
  [topics.status, topics.info, topics.heartbeat, topics.reports, topics.runs].map((topic) => topic(device));
const hubTopics = (device: string) => [topics.commands(device), topics.model(device, "player_1")];

/** A client that records what it receives, and can wait for one topic. */
function recorder(client: MqttClient) {
  const received: string[] = [];
  const waiters = new Map<string, () => void>();
  client.on("message", (topic) => {
    received.push(topic);
    waiters.get(topic)?.();
  });
  const until = (topic: string) =>
    new Promise<void>((resolve) => {
      if (received.includes(topic)) resolve();
      else waiters.set(topic, resolve);
    });
  return { client, received, until };
}

describe.skipIf(shippedBrokerUnavailable !== undefined)(
  `the shipped broker ACL${shippedBrokerUnavailable ? ` (skipped: ${shippedBrokerUnavailable})` : ""}`,
  () => {
    let shipped: ShippedBroker;
    const clients: MqttClient[] = [];
    const connect = async (username?: string, options: IClientOptions = {}) => {
      const password = username ? users[username as keyof typeof users] : undefined;
      const client = await mqtt.connectAsync(shipped.broker.url, {
        ca: shipped.ca,
        protocolVersion: 5,
        reconnectPeriod: 0,
        username,
        password,
        ...options,
      });
      clients.push(client);
      return client;
    };

    beforeAll(async () => {
      shipped = await startShippedBroker(users);
    });
    afterAll(async () => {
      await Promise.all(clients.map((client) => client.endAsync(true).catch(() => undefined)));
      await shipped?.[Symbol.asyncDispose]();
    });

    test("a device publishing as another device is refused, and neither the hub nor that device gets it", async () => {
      const hub = recorder(await connect("hub"));
      await hub.client.subscribeAsync("edgetrain/#", { qos: 1 });
      const victim = recorder(await connect("orin-2"));
      await victim.client.subscribeAsync([topics.commands("orin-2"), topics.models("orin-2")], { qos: 1 });
      const intruder = await connect("orin-1");
      // The announcements and commands of a device are the hub's to write, the device's own included.
      const forged = [...deviceTopics("orin-2"), ...hubTopics("orin-2"), ...hubTopics("orin-1")];
      for (const topic of forged) {
        const refused = await intruder.publishAsync(topic, "{}", { qos: 1, retain: true }).catch((error) => error);
        expect({ topic, code: refused?.code }).toEqual({ topic, code: NOT_AUTHORIZED });
      }
      // Messages from one client arrive in order: once its own heartbeat is in, the forged ones would be too.
      await intruder.publishAsync(topics.heartbeat("orin-1"), "{}", { qos: 1 });
      await hub.until(topics.heartbeat("orin-1"));
      // MQTT 3.1.1 has no refusal in its PUBACK: Mosquitto drops the message without a word. (This
      // connection replaces the one above: the client id is the username.)
      const old = await connect("orin-1", { protocolVersion: 4 });
      await old.publishAsync(topics.heartbeat("orin-2"), "{}", { qos: 1 });
      await old.publishAsync(topics.runs("orin-1"), "{}", { qos: 1 });
      await hub.until(topics.runs("orin-1"));
      expect(hub.received).toEqual([topics.heartbeat("orin-1"), topics.runs("orin-1")]);
      await hub.client.publishAsync(topics.commands("orin-2"), "{}", { qos: 1 });
      await victim.until(topics.commands("orin-2"));
      expect(victim.received).toEqual([topics.commands("orin-2")]);
    });

    test("a device can neither subscribe to another device's commands or models nor read them", async () => {
      const hub = await connect("hub");
      const device = recorder(await connect("orin-1"));
      const other = [topics.commands("orin-2"), topics.models("orin-2")];
      // Mosquitto 2.0's acl_file grants every subscription and filters on delivery; brokers that check
      // subscriptions (EMQX, HiveMQ, Mosquitto's dynamic security) answer 0x87 instead.
      const granted = await device.client.subscribeAsync(other, { qos: 1 });
      for (const grant of granted) expect([1, NOT_AUTHORIZED]).toContain(grant.qos);
      const mine = await device.client.subscribeAsync([topics.commands("orin-1"), topics.models("orin-1")], { qos: 1 });
      expect(mine.map((grant) => grant.qos)).toEqual([1, 1]);
      // A wildcard subscription is accepted, but only what the ACL lets the device read reaches it.
      await hub.publishAsync(topics.model("orin-2", "player_1"), "{}", { qos: 1, retain: true });
      await hub.publishAsync(topics.model("orin-1", "player_1"), "{}", { qos: 1, retain: true });
      await device.client.subscribeAsync("edgetrain/#", { qos: 1 });
      await hub.publishAsync(topics.heartbeat("orin-2"), "{}", { qos: 1 });
      await hub.publishAsync(topics.commands("orin-2"), "{}", { qos: 1 });
      await hub.publishAsync(topics.commands("orin-1"), "{}", { qos: 1 });
      await device.until(topics.commands("orin-1"));
      const own = new Set([topics.model("orin-1", "player_1"), topics.commands("orin-1")]);
      expect(new Set(device.received)).toEqual(own);
    });

    test("the hub receives what a device sends on its own topics, its last will included", async () => {
      const hub = recorder(await connect("hub"));
      await hub.client.subscribeAsync(topics.fromDevices.map(String), { qos: 1 });
      const offline = Buffer.from('{"state":"offline"}');
      const will = { topic: topics.status("orin-1"), payload: offline, qos: 1 as const, retain: true };
      const device = await connect("orin-1", { will });
      for (const topic of deviceTopics("orin-1").slice(1)) await device.publishAsync(topic, "{}", { qos: 1 });
      await hub.until(topics.runs("orin-1"));
      expect(hub.received).toEqual(deviceTopics("orin-1").slice(1));
      // The device vanishes without a DISCONNECT: the broker publishes its will under the device's own rights.
      device.stream.destroy();
      await hub.until(topics.status("orin-1"));
    });

    test("a device cannot take over another device's session with that device's client id", async () => {
      const hub = await connect("hub");
      const owner = recorder(await connect("orin-2", { clientId: "orin-2" }));
      let ownerClosed = false;
      owner.client.on("close", () => (ownerClosed = true));
      await owner.client.subscribeAsync(topics.commands("orin-2"), { qos: 1 });
      await connect("orin-1", { clientId: "orin-2" });
      await hub.publishAsync(topics.commands("orin-2"), "{}", { qos: 1 });
      await owner.until(topics.commands("orin-2"));
      expect(ownerClosed).toBe(false);
    });

    test("an unknown user, a wrong password and an anonymous client are refused at connect", async () => {
      const refusal = (options: IClientOptions) =>
        mqtt
          .connectAsync(shipped.broker.url, { ca: shipped.ca, protocolVersion: 5, reconnectPeriod: 0, ...options })
          .then(
            (client) => client.endAsync().then(() => "connected"),
            (error) => error.code,
          );
      expect(await refusal({ username: "orin-9", password: "secret-9" })).toBe(NOT_AUTHORIZED);
      expect(await refusal({ username: "orin-1", password: "secret-2" })).toBe(NOT_AUTHORIZED);
      expect(await refusal({})).toBe(NOT_AUTHORIZED);
    });

    test("the trial listener, once uncommented, serves plain MQTT on loopback with the same passwords", async () => {
      await using trial = await startShippedBroker(users, { trialListener: true });
      const plain = (options: IClientOptions) =>
        mqtt.connectAsync(trial.trialUrl!, { protocolVersion: 5, reconnectPeriod: 0, ...options });
      await (await plain({ username: "hub", password: users.hub })).endAsync();
      const anonymous = await plain({}).catch((error) => error);
      expect(anonymous.code).toBe(NOT_AUTHORIZED);
    });
  },
);
