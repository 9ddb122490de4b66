/**
 * Fleet benchmark (issue 25, section 5), run by hand under the benchmarks' lock:
 *
 *   flock /tmp/edgetrain-bench.lock bun scripts/bench/fleet.ts [--devices 1000] [--seconds 60] [--workers 4]
 *     [--only fastapi|mqtt] [--model-kb 200] [--waves 1%,10%,50%,100%]
 *
 * Simulated devices (scripts/bench/fleet-devices.ts, spread over a few processes) each send one heartbeat a
 * second, 30 times the default rate, to:
 *  - the FastAPI peer (scripts/bench/fleet_fastapi_peer.py, Debian python3-fastapi and python3-uvicorn):
 *    HTTP POSTs, each stored in SQLite, the pattern such fleets use today;
 *  - the hub (`edgetrain hub --broker`, its own process, its registry in SQLite) through one Mosquitto on this
 *    machine with the shipped ACL and a password per device; each device is made of the agent's own MQTT,
 *    outbox and OTA code (fleet-agent-device.ts).
 * For each it reports what was sent, stored and lost, the delay from sending to storing (p50, p99, max), the
 * receiver's CPU time per heartbeat (utime + stime from /proc) and its peak RSS. The hub's stored time is
 * when a reader polling its database every 5 ms first sees the row, an upper bound.
 *
 * Then the rollout: a model of --model-kb is published to the hub and rolled out to every device in
 * --waves; each device downloads it with the agent's code, checks signature, size and sha256, stores it as
 * a version and reports `verified`. It reports each wave's start and the time from the last wave's start
 * until every device has reported, and what was lost: reports the hub lacks, stores without the version.
 * Prints Markdown rows for docs/performance.md.
 */
import { Database } from "bun:sqlite";
import { chownSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { onnx } from "onnx-proto";

const { values: args } = parseArgs({
  options: {
    devices: { type: "string", default: "1000" },
    seconds: { type: "string", default: "60" },
    workers: { type: "string", default: String(Math.max(2, Math.min(4, cpus().length))) },
    only: { type: "string" },
    "model-kb": { type: "string", default: "200" },
    waves: { type: "string", default: "1%,10%,50%,100%" },
  },
});
const DEVICES = Number(args.devices);
const SECONDS = Number(args.seconds);
const WORKERS = Math.min(Number(args.workers), DEVICES);
const WAVES = args.waves.split(",").map((share) => Number(share.replace("%", "")) / 100);
const root = resolve(import.meta.dir, "../..");
const work = join(root, ".bench-fleet");
const PYTHON = "/usr/bin/python3";
const MOSQUITTO = "/usr/sbin/mosquitto";
/** After the last heartbeat is sent, how long the receiver gets to store the stragglers. */
const DRAIN_MS = 3000;
/** The rollout's deadline: the issue's 60 s after the last wave's start, with room to see how far past. */
const ROLLOUT_LIMIT_MS = 300_000;

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

// A bench that fails half-way must not leave a server holding its port for the next try.
const started = new Set<{ kill(): void }>();
process.on("exit", () => started.forEach((child) => child.kill()));

function spawn(command: string[], options: { stdin?: "pipe"; env?: Record<string, string>; quiet?: boolean } = {}) {
  const child = Bun.spawn(command, {
    cwd: root,
    stdin: options.stdin ?? "ignore",
    stdout: "pipe",
    stderr: options.quiet ? "ignore" : "inherit",
    env: { ...process.env, ...options.env },
  });
  started.add(child);
  return child;
}

/** CPU time a process (all its threads) has used, in ms: utime + stime from /proc, in 10 ms clock ticks. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Peak resident memory of a process, in MB. */
function peakRssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmHWM:\s+(\d+) kB/);
  return line ? Number(line[1]) / 1024 : Number.NaN;
}

async function until(check: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await Promise.resolve(check()).catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

/** The JSON of the device processes and the hub's API, read field by field as the bench goes. */
// biome-ignore lint/suspicious/noExplicitAny: the bench reads whatever fields it reports, unchecked.
type Loose = Record<string, any>;

/** JSON lines from a child's stdout, awaited by their `event`. */
function lines(stream: ReadableStream<Uint8Array>) {
  const seen: Array<Loose> = [];
  let more = () => {};
  let ended = false;
  void (async () => {
    let text = "";
    for await (const chunk of stream) {
      text += new TextDecoder().decode(chunk);
      for (let at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n")) {
        const line = text.slice(0, at).trim();
        text = text.slice(at + 1);
        if (line.startsWith("{")) seen.push(JSON.parse(line));
        more();
      }
    }
    ended = true;
    more();
  })();
  return async (event: string): Promise<Loose> => {
    for (;;) {
      const found = seen.find((line) => line.event === event);
      if (found) return found;
      if (ended) throw new Error(`a device process ended before "${event}"`);
      await new Promise<void>((resolve) => (more = resolve));
    }
  };
}

type Worker = { proc: ReturnType<typeof spawn>; next: ReturnType<typeof lines> };

/** The simulated devices over `transport` in WORKERS processes. */
function startDevices(transport: "http" | "mqtt", url: string, startAt: number, extra: string[] = []): Worker[] {
  const per = Math.ceil(DEVICES / WORKERS);
  return Array.from({ length: WORKERS }, (_, w) => {
    const first = w * per;
    const count = Math.min(per, DEVICES - first);
    const proc = spawn(
      [
        process.execPath,
        join(import.meta.dir, "fleet-devices.ts"),
        "--transport",
        transport,
        "--url",
        url,
        "--first",
        String(first),
        "--count",
        String(count),
        "--total",
        String(DEVICES),
        "--start-at",
        String(startAt),
        "--seconds",
        String(SECONDS),
        ...extra,
      ],
      { stdin: "pipe" },
    );
    return { proc, next: lines(proc.stdout as ReadableStream<Uint8Array>) };
  });
}

type Row = { at: string; stored_ms: number };

interface Receiver {
  name: string;
  /** The process whose CPU time and memory count. */
  pid: number;
  /** One row per heartbeat stored: when it was sent (`at`, ISO) and when it was stored. */
  rows(): Row[];
  stop(): Promise<void>;
}

interface Figures {
  sent: number;
  failed: number;
  stored: number;
  p50: number;
  p99: number;
  max: number;
  cpuPerBeatUs: number;
  rssMb: number;
  brokerCpuPerBeatUs?: number;
}

/**
 * Sends the fleet's heartbeats to a receiver and measures what it stored, how late and at what cost. The
 * window starts a second after every device is connected (or registered), so that CPU counts heartbeats only.
 */
async function measure(receiver: Receiver, workers: Worker[], brokerPid?: number) {
  await Promise.all(workers.map((worker) => worker.next("ready")));
  const go = Date.now() + 1000;
  for (const worker of workers) worker.proc.stdin!.write(`${go}\n`);
  await Bun.sleep(go - Date.now());
  const cpuBefore = cpuMs(receiver.pid);
  const brokerBefore = brokerPid ? cpuMs(brokerPid) : 0;
  const outcomes = await Promise.all(workers.map((worker) => worker.next("heartbeats")));
  const sent = outcomes.reduce((sum, o) => sum + o.sent, 0);
  const failed = outcomes.reduce((sum, o) => sum + o.failed, 0);
  const errors = outcomes.flatMap((o) => o.errors).slice(0, 5);
  if (errors.length) console.error(`  send errors: ${errors.join("; ")}`);
  const deadline = Date.now() + DRAIN_MS;
  while (receiver.rows().length < sent && Date.now() < deadline) await Bun.sleep(100);
  const rows = receiver.rows();
  const perBeat = (ms: number) => (1000 * ms) / Math.max(1, rows.length);
  const delays = rows.map((row) => row.stored_ms - Date.parse(row.at)).sort((a, b) => a - b);
  const at = (q: number) => delays[Math.min(delays.length - 1, Math.floor(q * delays.length))] ?? Number.NaN;
  const figures: Figures = {
    sent,
    failed,
    stored: rows.length,
    p50: at(0.5),
    p99: at(0.99),
    max: delays.at(-1) ?? Number.NaN,
    cpuPerBeatUs: perBeat(cpuMs(receiver.pid) - cpuBefore),
    rssMb: peakRssMb(receiver.pid),
    ...(brokerPid ? { brokerCpuPerBeatUs: perBeat(cpuMs(brokerPid) - brokerBefore) } : {}),
  };
  return figures;
}

async function startFastApiPeer(): Promise<Receiver & { url: string }> {
  const port = await freePort();
  const db = join(work, "peer.sqlite");
  const peer = spawn([PYTHON, join(import.meta.dir, "fleet_fastapi_peer.py"), "--port", String(port), "--db", db]);
  const url = `http://127.0.0.1:${port}`;
  await until(async () => (await fetch(`${url}/openapi.json`)).ok, 20_000, "the FastAPI peer");
  const reader = new Database(db, { readonly: true });
  return {
    url,
    name: "FastAPI peer: uvicorn, pydantic, SQLite (HTTP POST)",
    pid: peer.pid,
    rows: () => reader.query("SELECT at, stored_ms FROM heartbeats").all() as Row[],
    async stop() {
      reader.close();
      peer.kill();
      await peer.exited;
    },
  };
}

/** One Mosquitto as shipped (deploy/mosquitto: ACL, a password per device), on a plain loopback listener. */
async function startBroker() {
  const dir = join(work, "mosquitto");
  mkdirSync(dir);
  const port = await freePort();
  const users = ["hub", ...Array.from({ length: DEVICES }, (_, i) => `bench-${String(i).padStart(5, "0")}`)];
  // The simulated devices log in with their id as password: the bench measures the broker, not secrecy.
  writeFileSync(join(dir, "passwd"), `${users.map((user) => `${user}:${user}`).join("\n")}\n`);
  const hashed = Bun.spawnSync(["mosquitto_passwd", "-U", join(dir, "passwd")]);
  if (hashed.exitCode !== 0) throw new Error(`mosquitto_passwd: ${hashed.stderr}`);
  writeFileSync(
    join(dir, "mosquitto.conf"),
    `${[
      `listener ${port} 127.0.0.1`,
      "use_username_as_clientid true",
      "allow_anonymous false",
      `password_file ${dir}/passwd`,
      `acl_file ${join(root, "deploy/mosquitto/acl")}`,
      "persistence false",
      "max_packet_size 1048576",
      "max_queued_messages 20000",
      `log_dest file ${dir}/mosquitto.log`,
    ].join("\n")}\n`,
  );
  // Started as root, Mosquitto drops to its own user, which must read its folder.
  if (process.getuid?.() === 0) {
    const ids = Bun.spawnSync(["id", "-u", "mosquitto"]).stdout.toString().trim();
    if (ids) for (const name of ["", "passwd", "mosquitto.conf"]) chownSync(join(dir, name), Number(ids), 0);
  }
  const broker = spawn([MOSQUITTO, "-c", join(dir, "mosquitto.conf")]);
  await until(
    async () => {
      const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
      socket.end();
      return true;
    },
    10_000,
    "Mosquitto",
  );
  return { url: `mqtt://127.0.0.1:${port}`, pid: broker.pid, stop: async () => (broker.kill(), await broker.exited) };
}

/**
 * The hub as a user runs it, `edgetrain hub --broker URL`, logged in as "hub". Its rows are read by polling
 * its registry (WAL: the reader never blocks the hub): a row's stored time is when the poll first sees it.
 */
async function startHub(brokerUrl: string) {
  const home = join(work, "hub");
  const hub = spawn(
    [
      process.execPath,
      join(root, "runtime/cli/main.ts"),
      "hub",
      "--home",
      home,
      "--broker",
      brokerUrl,
      "--broker-user",
      "hub",
      "--port",
      "0",
    ],
    // Its log is in its home's hub.log.
    { env: { EDGETRAIN_BROKER_PASSWORD: "hub", NO_COLOR: "1" }, quiet: true },
  );
  await until(
    () => {
      try {
        return JSON.parse(readFileSync(join(home, "hub.json"), "utf8")).url !== undefined;
      } catch {
        return false;
      }
    },
    30_000,
    "the hub",
  );
  const { url, public_key: publicKey } = JSON.parse(readFileSync(join(home, "hub.json"), "utf8"));
  const token = readFileSync(join(home, "hub.token"), "utf8").trim();
  const reader = new Database(join(home, "hub.db"), { readonly: true });
  const query = reader.query<{ rowid: number; at: string }, [number]>(
    "SELECT rowid, json_extract(data, '$.at') AS at FROM heartbeats WHERE rowid > ? ORDER BY rowid",
  );
  const rows: Row[] = [];
  let last = 0;
  const poll = setInterval(() => {
    const now = Date.now();
    for (const row of query.all(last)) {
      rows.push({ at: row.at, stored_ms: now });
      last = row.rowid;
    }
  }, 5);
  const call = async (method: string, path: string, body?: unknown): Promise<Loose> => {
    const binary = body instanceof Uint8Array;
    const response = await fetch(url + path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": binary ? "application/octet-stream" : "application/json" }),
      },
      body: body === undefined ? undefined : binary ? body : JSON.stringify(body),
    });
    const answer = (await response.json()) as Loose;
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(answer)}`);
    return answer;
  };
  return {
    name: "edgetrain hub (SQLite) via Mosquitto; devices on the agent's MQTT code",
    pid: hub.pid,
    publicKey: publicKey as string,
    call,
    rows: () => rows,
    async stop() {
      clearInterval(poll);
      reader.close();
      hub.kill("SIGTERM");
      await hub.exited;
    },
  };
}

/** An ONNX file of `kb` KB carrying edgetrain's metadata, as a trained model does; devices never run it. */
function modelBytes(kb: number): Uint8Array {
  const description = { task: "classification", feature_names: ["hr", "speed"], classes: ["rest", "run"] };
  return onnx.ModelProto.encode({
    irVersion: 8,
    producerName: "bench",
    docString: "x".repeat(kb * 1024),
    metadataProps: [{ key: "edgetrain", value: JSON.stringify(description) }],
  }).finish();
}

interface RolloutFigures {
  waves: string;
  waveStarts: number[];
  lastWaveToDoneS: number;
  totalS: number;
  state: string;
  counts: Record<string, number>;
  stored: number;
  waiting: number;
  hubRssMb: number;
}

/** Publishes a model to the hub and rolls it out in WAVES; follows it until every device has reported. */
async function rollout(hub: Awaited<ReturnType<typeof startHub>>, workers: Worker[]): Promise<RolloutFigures> {
  const bytes = modelBytes(Number(args["model-kb"]));
  await hub.call("POST", "/v1/fleet/models/bench", bytes);
  const began = Date.now();
  const { id } = await hub.call("POST", "/v1/fleet/rollouts", {
    model: "bench",
    waves: WAVES,
    max_failures: 0.05,
    wave_timeout_ms: ROLLOUT_LIMIT_MS,
  });
  const waveStarts: number[] = [];
  let state: Loose = {};
  for (const deadline = began + ROLLOUT_LIMIT_MS; Date.now() < deadline; await Bun.sleep(100)) {
    state = await hub.call("GET", `/v1/fleet/rollouts/${id}`);
    if (state.wave_started_at) waveStarts[state.wave - 1] = state.wave_started_at;
    if (state.state !== "running") break;
  }
  for (const worker of workers) worker.proc.stdin!.write("stop\n");
  const done = await Promise.all(workers.map((worker) => worker.next("done")));
  const doneAt = state.ended_at ?? Date.now();
  // A wave starts with its first announcement; the poll above can miss a short one.
  for (const target of (state.devices ?? []) as Array<{ wave: number; announced_at: number | null }>) {
    if (target.announced_at === null) continue;
    waveStarts[target.wave - 1] = Math.min(waveStarts[target.wave - 1] ?? Infinity, target.announced_at);
  }
  return {
    waves: WAVES.map((share) => `${share * 100}%`).join(", "),
    waveStarts: waveStarts.map((at) => (at - began) / 1000),
    lastWaveToDoneS: (doneAt - waveStarts.at(-1)!) / 1000,
    totalS: (doneAt - began) / 1000,
    state: state.state,
    counts: state.counts,
    stored: done.reduce((sum, d) => sum + d.stored, 0),
    waiting: done.reduce((sum, d) => sum + d.waiting, 0),
    hubRssMb: peakRssMb(hub.pid),
  };
}

const results: string[] = [];
function report(name: string, f: Figures) {
  const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(1)} ms` : "–");
  const us = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? `${x.toFixed(0)} µs` : "–");
  const line = [
    name,
    f.sent,
    f.stored,
    f.sent - f.stored,
    f.failed,
    ms(f.p50),
    ms(f.p99),
    ms(f.max),
    us(f.cpuPerBeatUs),
    Number.isFinite(f.rssMb) ? `${f.rssMb.toFixed(0)} MB` : "–",
    us(f.brokerCpuPerBeatUs),
  ];
  results.push(`| ${line.join(" | ")} |`);
  console.error(results.at(-1));
}

/** Workers wait for the window's start on stdin, once every device is connected. */
const WAIT_FOR_GO = ["--start-at", "stdin"];

console.error(`${DEVICES} devices × ${SECONDS} s at 1 heartbeat/s, ${WORKERS} device processes`);
if (args.only !== "mqtt") {
  const peer = await startFastApiPeer();
  try {
    const workers = startDevices("http", peer.url, 0, WAIT_FOR_GO);
    report(peer.name, await measure(peer, workers));
    await Promise.all(workers.map((worker) => worker.proc.exited));
  } finally {
    await peer.stop();
  }
}
let rolled: RolloutFigures | undefined;
if (args.only !== "fastapi") {
  const broker = await startBroker();
  try {
    const hub = await startHub(broker.url);
    try {
      const devicesDir = join(work, "devices");
      const workers = startDevices("mqtt", broker.url, 0, [
        ...WAIT_FOR_GO,
        "--trust",
        hub.publicKey,
        "--dir",
        devicesDir,
      ]);
      report(hub.name, await measure(hub, workers, broker.pid));
      rolled = await rollout(hub, workers);
      console.error(JSON.stringify(rolled));
    } finally {
      await hub.stop();
    }
  } finally {
    await broker.stop();
  }
}

const cpu = cpus()[0]?.model ?? "unknown CPU";
console.log(
  `Command: \`bun scripts/bench/fleet.ts --devices ${DEVICES} --seconds ${SECONDS} --workers ${WORKERS}\`` +
    ` — machine: ${cpus().length}-vCPU (${cpu}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB — date: ` +
    new Date().toISOString().slice(0, 10),
);
console.log("");
console.log(
  "| Receiver | Sent | Stored | Lost | Send errors | p50 delay | p99 delay | Max delay | CPU per heartbeat " +
    "| Peak RSS | Broker CPU per heartbeat |",
);
console.log("|---|---|---|---|---|---|---|---|---|---|---|");
for (const line of results) console.log(line);
if (rolled) {
  console.log("");
  console.log(
    "| Model | Waves | Wave starts (s after the rollout) | Last wave start → all reported | Total | State " +
      "| Reported verified | Failed | Stored on devices | Reports left in outboxes | Hub peak RSS |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|");
  const failed = (rolled.counts.failed ?? 0) + (rolled.counts.rejected ?? 0);
  console.log(
    `| ${args["model-kb"]} KB | ${rolled.waves} | ${rolled.waveStarts.map((s) => s.toFixed(1)).join(", ")} ` +
      `| ${rolled.lastWaveToDoneS.toFixed(1)} s | ${rolled.totalS.toFixed(1)} s | ${rolled.state} ` +
      `| ${rolled.counts.verified ?? 0} of ${DEVICES} | ${failed} | ${rolled.stored} | ${rolled.waiting} ` +
      `| ${rolled.hubRssMb.toFixed(0)} MB |`,
  );
}
process.exit(0);
