/**
 * Simulated fleet devices for scripts/bench/fleet.ts: one of the few processes that together play the whole
 * fleet. Devices `--first` to `--first + --count - 1` (ids bench-00000…) each send one heartbeat a second,
 * their phases spread over the second, from `--start-at` (epoch ms) for `--seconds`, over `--transport http`
 * (POST to the backend at `--url`, keep-alive) or `--transport mqtt` (one MQTT connection each, to the
 * broker at `--url`). Prints one JSON line when done: {"sent", "failed", "errors"}.
 *
 * `--probe --until MS --db FILE` instead subscribes to every heartbeat on the broker and, at MS, writes one
 * row per heartbeat with the time it arrived: the stand-in for the hub until the hub is on this branch.
 */
import { Database } from "bun:sqlite";
import mqtt, { type MqttClient } from "mqtt";
import { parseArgs } from "node:util";
import * as v from "valibot";
import { HEARTBEAT_MAX_BYTES, Heartbeat, httpRoutes, topics } from "../../runtime/fleet/protocol.ts";

const { values: args } = parseArgs({
  options: {
    transport: { type: "string", default: "http" },
    url: { type: "string" },
    first: { type: "string", default: "0" },
    count: { type: "string", default: "1" },
    total: { type: "string", default: "1" },
    "start-at": { type: "string" },
    seconds: { type: "string", default: "10" },
    probe: { type: "boolean", default: false },
    until: { type: "string" },
    db: { type: "string" },
  },
});
const url = args.url ?? fail("--url is required");

const deviceId = (index: number) => `bench-${String(index).padStart(5, "0")}`;

function fail(why: string): never {
  console.error(`fleet-devices: ${why}`);
  process.exit(2);
}

/** A heartbeat as a busy device sends it: every sensor, two models and their class histograms. */
function heartbeat(device: string, seq: number, index: number): Heartbeat {
  const wave = (period: number) => (Math.sin((seq + index) / period) + 1) / 2;
  return {
    device,
    at: new Date().toISOString(),
    seq,
    cpu_ratio: round(0.2 + 0.6 * wave(7)),
    memory_ratio: round(0.4 + 0.2 * wave(13)),
    disk_ratio: 0.61,
    gpu_ratio: round(0.5 * wave(5)),
    gpu_memory_ratio: 0.33,
    temperature_c: round(48 + 12 * wave(11)),
    governor: seq % 30 < 25 ? "running" : "paused",
    runs: seq % 60 < 20 ? [{ run: `r-${index}-${Math.floor(seq / 60)}`, job: "player_7", state: "running" }] : [],
    models: {
      player_7: { version: 12, metrics: { accuracy: 0.913, f1_macro: 0.887 } },
      fatigue: { version: 4, metrics: { rmse: 0.142, r2: 0.81 } },
    },
    predictions: {
      total: 1000 * index + seq * 17,
      cache_hit_ratio: 0.42,
      by_model: {
        player_7: { count: 17, classes: { rest: 5, walk: 6, run: 4, sprint: 2 } },
        fatigue: { count: 3 },
      },
    },
  };
}

const round = (x: number) => Math.round(x * 1000) / 1000;

interface Outcome {
  sent: number;
  failed: number;
  errors: string[];
}

/** Sends one heartbeat a second per device until the window closes; `send` resolves once it is handed over. */
async function beat(devices: number[], send: (index: number, body: string, seq: number) => Promise<void>) {
  const startAt = Number(args["start-at"] ?? Date.now() + 500);
  const seconds = Number(args.seconds);
  const total = Number(args.total);
  const outcome: Outcome = { sent: 0, failed: 0, errors: [] };
  const sample = JSON.stringify(heartbeat(deviceId(0), 0, 0));
  if (!v.safeParse(Heartbeat, JSON.parse(sample)).success || sample.length > HEARTBEAT_MAX_BYTES) {
    fail("the simulated heartbeat breaks the protocol");
  }
  await Promise.all(
    devices.map(async (index) => {
      const phase = (1000 * index) / total;
      for (let seq = 0; seq < seconds; seq++) {
        const wait = startAt + phase + 1000 * seq - Date.now();
        if (wait > 0) await Bun.sleep(wait);
        const body = JSON.stringify(heartbeat(deviceId(index), seq, index));
        try {
          await send(index, body, seq);
          outcome.sent++;
        } catch (error) {
          outcome.failed++;
          if (outcome.errors.length < 5) outcome.errors.push(String(error));
        }
      }
    }),
  );
  return outcome;
}

async function overHttp(devices: number[]): Promise<Outcome> {
  const headers = { "content-type": "application/json", authorization: "Bearer bench" };
  for (const index of devices) {
    const info = { device: deviceId(index), name: deviceId(index), groups: ["bench"], edgetrain_version: "bench" };
    const body = JSON.stringify({ ...info, profile: "bench", hardware: {}, models: [], at: new Date().toISOString() });
    const response = await fetch(`${url}${httpRoutes.register}`, { method: "POST", headers, body });
    if (!response.ok) fail(`registering ${deviceId(index)}: HTTP ${response.status}`);
  }
  return beat(devices, async (index, body) => {
    const response = await fetch(`${url}${httpRoutes.heartbeat(deviceId(index))}`, { method: "POST", headers, body });
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
  });
}

// TODO(fleet agent): connect through the device agent's own MQTT transport once it is merged, so that the
// benchmark measures its code; until then, plain MQTT.js with the agent's settings (MQTT 5, persistent
// session, retained offline will, QoS 0 heartbeats).
const status = (device: string, state: "online" | "offline") => JSON.stringify({ device, state });

async function overMqtt(devices: number[]): Promise<Outcome> {
  const clients = new Map<number, MqttClient>();
  // Connect in small batches: a thousand handshakes at once only measure the broker's accept queue.
  for (let i = 0; i < devices.length; i += 50) {
    await Promise.all(
      devices.slice(i, i + 50).map(async (index) => {
        const device = deviceId(index);
        const client = await mqtt.connectAsync(url, {
          clientId: device,
          // fleet.ts makes each device's password its id.
          username: device,
          password: device,
          protocolVersion: 5,
          clean: false,
          properties: { sessionExpiryInterval: 3600 },
          will: { topic: topics.status(device), payload: Buffer.from(status(device, "offline")), qos: 1, retain: true },
          reconnectPeriod: 1000,
        });
        await client.publishAsync(topics.status(device), status(device, "online"), { qos: 1, retain: true });
        clients.set(index, client);
      }),
    );
  }
  const outcome = await beat(devices, async (index, body) => {
    await clients.get(index)!.publishAsync(topics.heartbeat(deviceId(index)), body, { qos: 0 });
  });
  await Promise.all([...clients.values()].map((client) => client.endAsync()));
  return outcome;
}

async function probe(): Promise<void> {
  const until = Number(args.until ?? fail("--until is required"));
  const rows: [string, number, string, number][] = [];
  const client = await mqtt.connectAsync(url, { username: "hub", password: "hub", protocolVersion: 5 });
  client.on("message", (_topic, payload) => {
    const stored = Date.now();
    const beat = JSON.parse(`${payload}`) as Heartbeat;
    rows.push([beat.device, beat.seq, beat.at, stored]);
  });
  await client.subscribeAsync(`${topics.heartbeat("+")}`, { qos: 0 });
  console.log(JSON.stringify({ ready: true }));
  await Bun.sleep(Math.max(0, until - Date.now()));
  await client.endAsync();
  const db = new Database(args.db ?? fail("--db is required"));
  db.run("CREATE TABLE heartbeats (device TEXT, seq INTEGER, at TEXT, stored_ms REAL)");
  const insert = db.prepare("INSERT INTO heartbeats VALUES (?, ?, ?, ?)");
  db.transaction(() => rows.forEach((row) => insert.run(...row)))();
  db.close();
  console.log(JSON.stringify({ received: rows.length }));
}

if (args.probe) await probe();
else {
  const first = Number(args.first);
  const devices = Array.from({ length: Number(args.count) }, (_, i) => first + i);
  const outcome = args.transport === "mqtt" ? await overMqtt(devices) : await overHttp(devices);
  console.log(JSON.stringify(outcome));
}
