import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { Daemon } from "../../runtime/daemon.ts";
import { type DeviceCommand, type ModelAnnouncement, parseTopic, topics } from "../../runtime/fleet/protocol.ts";
import { generateHubKey, type HubKeyPair, signMessage } from "../../runtime/fleet/signing.ts";
import { testEnvironment, waitUntil } from "../helpers.ts";

export interface Heard {
  topic: string;
  device: string;
  kind: string;
  retain: boolean;
  body: Record<string, unknown> | undefined;
}

/** Plays the hub on a real broker: a plain MQTT client that hears every device and signs what it sends. */
export async function hubDouble(
  brokerUrl: string,
  key: HubKeyPair = generateHubKey().keys,
  options: { persistentAs?: string } = {},
) {
  // A persistent hub session keeps the devices' QoS 1 reports at the broker while the hub is away.
  const clientId = options.persistentAs ?? `hub-${crypto.randomUUID().slice(0, 8)}`;
  const client: MqttClient = await mqtt.connectAsync(brokerUrl, {
    clientId,
    clean: !options.persistentAs,
    reconnectPeriod: 100,
  });
  const heard: Heard[] = [];
  client.on("message", (topic, payload, packet) => {
    const parsed = parseTopic(topic);
    if (!parsed) return;
    const text = payload.toString();
    heard.push({
      topic,
      device: parsed.device,
      kind: parsed.kind,
      retain: packet.retain,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
    });
  });
  await client.subscribeAsync([...topics.fromDevices], { qos: 1 });
  const of = (kind: string, device?: string) =>
    heard.filter((h) => h.kind === kind && (device === undefined || h.device === device));
  return {
    client,
    key,
    heard,
    of,
    reports: (device?: string) => of("reports", device).map((h) => h.body!),
    async waitFor(predicate: () => boolean | Promise<boolean>, ms = 20_000) {
      await waitUntil(predicate, ms);
    },
    async announce(
      announcement: Omit<ModelAnnouncement, "signature">,
      sign: HubKeyPair | "unsigned" = key,
    ): Promise<ModelAnnouncement> {
      const message = sign === "unsigned" ? { ...announcement, signature: "" } : signMessage(announcement, sign);
      await client.publishAsync(topics.model(announcement.device, announcement.model), JSON.stringify(message), {
        qos: 1,
        retain: true,
      });
      return message;
    },
    async command(command: Omit<DeviceCommand, "signature">, sign: HubKeyPair | "unsigned" = key): Promise<void> {
      const message = sign === "unsigned" ? command : signMessage(command, sign);
      await client.publishAsync(topics.commands(command.device), JSON.stringify(message), { qos: 1 });
    },
    async close() {
      await client.endAsync(true);
    },
  };
}

/**
 * Serves model files as the hub does, with Range; `cutAfter` makes the first request of a file stop after
 * that many bytes (the connection drops), to exercise resuming; `unavailable` answers that many requests
 * 503 first. `stop()` then `start()` takes it away and brings it back on the same port.
 */
export function fileServer(
  files: Record<string, Uint8Array>,
  options: { cutAfter?: number; unavailable?: number } = {},
) {
  const requests: Array<{ path: string; range: string | null }> = [];
  let cut = options.cutAfter;
  let unavailable = options.unavailable ?? 0;
  const serve = (port: number) =>
    Bun.serve({
      port,
      hostname: "127.0.0.1",
      fetch(request) {
        const path = new URL(request.url).pathname;
        const range = request.headers.get("range");
        requests.push({ path, range });
        if (unavailable > 0) {
          unavailable--;
          return new Response("the hub is starting", { status: 503 });
        }
        const bytes = files[path];
        if (!bytes) return new Response("not found", { status: 404 });
        const from = range ? Number(/bytes=(\d+)-/.exec(range)?.[1] ?? 0) : 0;
        const body = bytes.subarray(from);
        const headers = {
          "content-length": String(body.length),
          ...(range ? { "content-range": `bytes ${from}-${bytes.length - 1}/${bytes.length}` } : {}),
        };
        if (cut !== undefined) {
          const stopAt = cut;
          cut = undefined;
          // Sends part of the file, then breaks the connection mid-body.
          const stream = new ReadableStream({
            start(controller) {
              controller.enqueue(body.subarray(0, stopAt));
              setTimeout(() => controller.close(), 50);
            },
          });
          return new Response(stream, { status: range ? 206 : 200, headers });
        }
        return new Response(body, { status: range ? 206 : 200, headers });
      },
    });
  let server: ReturnType<typeof serve> | undefined = serve(0);
  const port = server.port;
  return {
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    requests,
    stop: () => {
      server?.stop(true);
      server = undefined;
    },
    start: () => {
      server ??= serve(port!);
    },
  };
}

/** What an announcement of an ONNX file says about it. */
export function fileFacts(file: string) {
  const bytes = new Uint8Array(readFileSync(file));
  return { bytes, size: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") };
}

export function announcementOf(
  device: string,
  model: string,
  version: number,
  file: ReturnType<typeof fileFacts>,
  url: string,
  meta: { feature_names: string[]; classes?: string[] },
  rollout = `r-${model}-${version}`,
): Omit<ModelAnnouncement, "signature"> {
  return {
    type: "model.announce",
    device,
    rollout,
    model,
    version,
    size: file.size,
    sha256: file.sha256,
    url,
    task: "classification",
    feature_names: meta.feature_names,
    ...(meta.classes && { classes: meta.classes }),
    issued_at: new Date().toISOString(),
  };
}

/** A daemon in this process with a fleet section in its profile. */
export async function fleetDaemon(home: string, fleet: Record<string, unknown>, extraYaml = "") {
  const profile = join(home, "profile.yaml");
  const yaml = `paths: { home: ${home} }\napi: { port: 0 }\n${extraYaml}\nfleet: ${JSON.stringify(fleet)}\n`;
  mkdirSync(home, { recursive: true });
  writeFileSync(profile, yaml);
  return Daemon.start({ profile, environment: testEnvironment(home), headless: true });
}

/** The model the device's job trains for player_1, which fleet updates in the tests replace. */
export const FLEET_MODEL = "activity-player_1";

/**
 * A device profile's job over the athletes' sessions: its held-out session is what the gate scores fleet
 * updates on, with a tolerance the "newer" test model passes and the "weak" one does not.
 */
export const DEVICE_JOBS = `governor:
  { max_cpu_before: 100, max_memory_before: 100, pause_cpu: 100, pause_memory: 100, sample_interval: 200ms }
jobs:
  activity:
    strategy: random-forest
    options: { n_estimators: 5, max_depth: 4, seed: 1 }
    data: { source: sessions, path: athletes, sessions_to_use: 3, holdout: last-session, debounce: 0s }
    deploy: [{ type: gate, tolerance: 0.05 }, activate]
`;
