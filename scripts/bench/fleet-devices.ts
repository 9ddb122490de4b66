/**
 * Simulated fleet devices for scripts/bench/fleet.ts: one of the few processes that together play the whole
 * fleet. Devices `--first` to `--first + --count - 1` (ids bench-00000…) each send one heartbeat a second,
 * their phases spread over the second, from `--start-at` (epoch ms) for `--seconds`, over `--transport http`
 * (POST to the backend at `--url`, keep-alive, as today's Python clients do) or `--transport mqtt`: each
 * device is then made of the agent's own parts (fleet-agent-device.ts) on one connection to the broker at
 * `--url`, trusting the hub key `--trust`, with its state and models under `--dir`.
 *
 * Speaks JSON lines on stdout: {"event": "ready"} once every device is connected (or registered),
 * {"event": "heartbeats", "sent", "failed", "errors"} when the window closes. Over HTTP it then exits; over
 * MQTT the devices stay connected, applying the hub's announcements, until a line "stop" on stdin, and end
 * with {"event": "done", "outcomes", "stored", "waiting"}: OTA outcomes reported, devices whose store holds
 * the announced version, and reports still in outboxes.
 */
import { parseArgs } from "node:util";
import * as v from "valibot";
import { HEARTBEAT_MAX_BYTES, Heartbeat, httpRoutes } from "../../runtime/fleet/protocol.ts";
import { BenchDevice } from "./fleet-agent-device.ts";

const { values: args } = parseArgs({
  options: {
    transport: { type: "string", default: "http" },
    url: { type: "string" },
    first: { type: "string", default: "0" },
    count: { type: "string", default: "1" },
    total: { type: "string", default: "1" },
    "start-at": { type: "string" },
    seconds: { type: "string", default: "10" },
    trust: { type: "string" },
    model: { type: "string" },
    dir: { type: "string" },
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
  // "stdin": the bench says when, once every process has its devices connected.
  const startAt =
    args["start-at"] === "stdin" ? Number(await nextLine()) : Number(args["start-at"] ?? Date.now() + 500);
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
  say({ event: "ready" });
  return beat(devices, async (index, body) => {
    const response = await fetch(`${url}${httpRoutes.heartbeat(deviceId(index))}`, { method: "POST", headers, body });
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
  });
}

const say = (message: object) => console.log(JSON.stringify(message));
const input = console[Symbol.asyncIterator]();
/** The next line the bench wrote to stdin; "stop" once it is closed. */
const nextLine = async () => {
  const { value, done } = await input.next();
  return done ? "stop" : String(value).trim();
};

async function overMqtt(devices: number[]): Promise<void> {
  const trust = args.trust ?? fail("--trust is required");
  const dir = args.dir ?? fail("--dir is required");
  const fleet = devices.map((index) => new BenchDevice(deviceId(index), { broker: url, trust, dir }));
  // Connect in small batches: a thousand handshakes at once only measure the broker's accept queue.
  for (let i = 0; i < fleet.length; i += 50) {
    const batch = fleet.slice(i, i + 50);
    for (const device of batch) device.start();
    while (!batch.every((device) => device.transport.isConnected())) await Bun.sleep(20);
  }
  say({ event: "ready" });
  const byIndex = new Map(devices.map((index, i) => [index, fleet[i]!]));
  const outcome = await beat(devices, (index, body) => byIndex.get(index)!.heartbeat(JSON.parse(body)));
  say({ event: "heartbeats", ...outcome });
  while ((await nextLine()) !== "stop");
  const model = args.model ?? "bench";
  const stored = fleet.filter((device) => device.store.versions(model).length > 0).length;
  const waiting = fleet.reduce((sum, device) => sum + device.waiting(), 0);
  const outcomes: Record<string, number> = {};
  for (const device of fleet)
    for (const [name, n] of Object.entries(device.outcomes)) outcomes[name] = (outcomes[name] ?? 0) + n;
  await Promise.all(fleet.map((device) => device.stop()));
  say({ event: "done", outcomes, stored, waiting });
}

const first = Number(args.first);
const devices = Array.from({ length: Number(args.count) }, (_, i) => first + i);
if (args.transport === "mqtt") await overMqtt(devices);
else {
  const outcome = await overHttp(devices);
  say({ event: "heartbeats", ...outcome });
}
process.exit(0);
