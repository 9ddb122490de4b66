import { expect, test } from "bun:test";
import mqtt from "mqtt";
import { startMosquitto } from "./mosquitto.ts";

test("the test broker keeps retained messages across a restart and writes its log", async () => {
  await using broker = await startMosquitto();
  const publisher = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  await publisher.publishAsync("edgetrain/devices/orin-1/status", "online", { qos: 1, retain: true });
  await publisher.endAsync();
  await broker.restart();
  const reader = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  const received = new Promise<string>((resolve) => reader.on("message", (_, payload) => resolve(`${payload}`)));
  await reader.subscribeAsync("edgetrain/devices/+/status", { qos: 1 });
  expect(await received).toBe("online");
  await reader.endAsync();
  expect(broker.log()).toContain("mosquitto version");
});
