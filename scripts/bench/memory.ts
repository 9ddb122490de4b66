/**
 * Memory under load (issue 28.5), run by hand:
 * `flock /tmp/edgetrain-bench.lock bun scripts/bench/memory.ts [--home DIR] [--minutes 10] [--quiet 45]`.
 *
 * Starts the daemon as a real process on a demo home with `inference.max_loaded: 32`, asks each of its
 * 30 models once so that all 30 sessions are loaded, lets it settle for `--settle` seconds (45: past the 30 s
 * of quiet after which the daemon gives freed memory back) and records the idle RSS; then drives
 * a mixed load for `--minutes` (wrk: uncached single rows over the 30 models, some batches of rows, some
 * repeated rows the cache answers; from here: /v1/events clients that drop and resume with Last-Event-ID,
 * and /v1/status, /v1/models and /metrics polled each second; `--clients` picks among `events`, `run-events` and
 * `polls`, or `none`), sampling the daemon's RSS every `--sample`
 * seconds; then stops the load and records the RSS after `--quiet` seconds without requests (`--warm S`: the
 * same load for S seconds after idle, and idle read again once each kind of request was served). Prints the
 * figures as Markdown for docs/performance.md, with where the resident bytes lie (/proc/PID/smaps_rollup:
 * anonymous memory against mapped files such as the executable and ONNX Runtime's library) and
 * JavaScriptCore's heap (from /metrics) at each point.
 *
 * `--home DIR` uses that demo home (default .bench-memory/home, kept between runs); its 30 models are trained
 * first when missing. The daemon runs with the environment the systemd unit gives it (HEAP_ENVIRONMENT),
 * or without it given `--bare`. `--env KEY=VALUE` and `--bun-flag FLAG` (repeatable) start the daemon with that
 * environment or Bun flag, to measure a setting without changing the code. `--binary PATH` runs a compiled
 * edgetrain (`bun scripts/build.ts --host-only`) instead of the sources.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { writeAthletes } from "../../runtime/demo/athletes.ts";
import { DEMO_DATA, DEMO_PROFILE } from "../../runtime/demo/demo-profile.ts";
import { HEAP_ENVIRONMENT } from "../../runtime/systemd/unit-file.ts";

/** The clients `--clients` may run beside wrk (all of them by default); their functions are defined below. */
const CLIENTS: Record<string, () => Promise<void>> = {
  events: () => eventClient(),
  "run-events": () => eventClient("run.,model."),
  polls: () => poller(),
};
const ALL_CLIENTS = Object.keys(CLIENTS).join(",");

const { values: flags } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    home: { type: "string" },
    minutes: { type: "string", default: "10" },
    quiet: { type: "string", default: "45" },
    sample: { type: "string", default: "5" },
    settle: { type: "string", default: "45" },
    warm: { type: "string", default: "0" },
    connections: { type: "string", default: "8" },
    env: { type: "string", multiple: true, default: [] },
    "bun-flag": { type: "string", multiple: true, default: [] },
    binary: { type: "string" },
    bare: { type: "boolean", default: false },
    clients: { type: "string", default: ALL_CLIENTS },
  },
});
const clientNames = flags.clients.split(",").filter((name) => name !== "none");
for (const name of clientNames) {
  if (!Object.hasOwn(CLIENTS, name)) throw new Error(`--clients: unknown ${name}; known: ${ALL_CLIENTS}, none`);
}
const root = resolve(import.meta.dir, "../..");
const work = join(root, ".bench-memory");
const home = resolve(flags.home ?? join(work, "home"));
const seconds = (flag: string) => Number(flag) * 1000;
const serviceEnv = flags.bare ? [] : [HEAP_ENVIRONMENT];
const extraEnv = Object.fromEntries(
  [...serviceEnv, ...flags.env].map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]),
);

// A bench that fails half-way must not leave a daemon or wrk running.
const started = new Set<{ kill(signal?: number | NodeJS.Signals): void }>();
process.on("exit", () => {
  for (const child of started) child.kill("SIGKILL");
});

// The demo's profile with every model's session kept: the budget (512 MB) holds them, max_loaded caps at 32.
const profile = join(home, "memory-profile.yaml");
mkdirSync(home, { recursive: true });
const athletes = join(home, "data/athletes");
if (!existsSync(join(athletes, `player_${DEMO_DATA.players}`))) writeAthletes(athletes, DEMO_DATA);
writeFileSync(profile, `${DEMO_PROFILE}inference:\n  max_loaded: 32\n`);

async function startDaemon() {
  const command = flags.binary
    ? [resolve(flags.binary)]
    : [process.execPath, ...flags["bun-flag"], join(root, "runtime/cli/main.ts")];
  const args = ["run", "--home", home, "--profile", profile, "--port", "0", "--json"];
  const env = { ...process.env, NO_COLOR: "1", ...extraEnv };
  const proc = Bun.spawn([...command, ...args], { stdout: "pipe", stderr: "ignore", env });
  started.add(proc);
  const reader = proc.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the daemon exited before it listened");
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const { port } = JSON.parse(text.split("\n")[0]!) as { port: number };
  return { proc, url: `http://127.0.0.1:${port}` };
}

async function until(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(500);
  }
}

type Models = { models: Array<{ model: string; active?: number }> };
const activeModels = async (url: string) =>
  ((await (await fetch(`${url}/v1/models`)).json()) as Models).models
    .filter((m) => m.active !== undefined)
    .map((m) => m.model);

// Train the 30 models once, if the home lacks them (model-missing fires for every player at start).
{
  const { proc, url } = await startDaemon();
  if ((await activeModels(url)).length < DEMO_DATA.players) {
    console.error(`training the ${DEMO_DATA.players} demo models in ${home}`);
    await until(async () => (await activeModels(url)).length === DEMO_DATA.players, 1_800_000, "30 trained models");
  }
  proc.kill("SIGTERM");
  await proc.exited;
}

const { proc, url } = await startDaemon();
const pid = proc.pid;

/** The daemon's resident memory in MB, from /proc alone: asking the daemon would add to what is measured. */
const residentMb = () => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

/** The daemon's resident memory in MB: in all, anonymous, in mapped files; its threads; JavaScriptCore's heap. */
async function memory() {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(rollup)?.[1] ?? 0) / 1024;
  const threads = Number(/^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(metrics)?.[1] ?? NaN) / 1_048_576;
  const heap = {
    used: gauge("nodejs_heap_size_used_bytes"),
    total: gauge("nodejs_heap_size_total_bytes"),
    external: gauge("nodejs_external_memory_bytes"),
  };
  return { rss: kb("Rss"), anon: kb("Anonymous"), file: kb("Rss") - kb("Anonymous"), threads, heap };
}
type Memory = Awaited<ReturnType<typeof memory>>;

const models = (await activeModels(url)).sort();
const randomRow = () => Array.from({ length: 16 }, () => Math.round(Math.random() * 1e6) / 1e4);
for (const model of models) {
  const body = JSON.stringify({ inputs: [randomRow()] });
  const response = await fetch(`${url}/v1/predict/${model}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  if (!response.ok) throw new Error(`${model} did not answer: ${response.status} ${await response.text()}`);
}
type Sessions = { loaded: number; loads: number; evictions: number; not_kept: number };
const sessions = async () =>
  ((await (await fetch(`${url}/v1/status`)).json()) as { inference: { sessions: Sessions } }).inference.sessions;

// wrk: a model drawn per request; 1 request in 10 a batch of 2–32 rows, 1 in 10 one of 50 rows per model
// that the cache comes to hold, the rest a new row each (answered by the model). Each wrk thread seeds apart.
mkdirSync(work, { recursive: true });
const script = join(work, `mixed-${process.pid}.lua`);
writeFileSync(
  script,
  `local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args)
  math.randomseed(os.time() * 1000 + id)
end
local function row(seed)
  local v = {}
  if seed then math.randomseed(seed) end
  for i = 1, 16 do v[i] = string.format("%.4f", math.random() * 100) end
  return "[" .. table.concat(v, ",") .. "]"
end
request = function()
  local model = math.random(1, ${models.length})
  local kind = math.random(1, 10)
  local rows
  if kind == 1 then
    local list = {}
    for i = 1, math.random(2, 32) do list[i] = row() end
    rows = table.concat(list, ",")
  elseif kind == 2 then
    local pick = math.random(1, 50)
    local state = math.random(1, 2147483647)
    rows = row(pick)
    math.randomseed(state)
  else
    rows = row()
  end
  local body = '{"inputs":[' .. rows .. ']}'
  return wrk.format("POST", "/v1/predict/activity-player_" .. model, { ["Content-Type"] = "application/json" }, body)
end
`,
);

let loadRunning = false;
/** Runs the mixed load for `durationS` seconds: wrk's predicts, the chosen clients beside them. */
async function drive(durationS: number) {
  loadRunning = true;
  const wrk = Bun.spawn(["wrk", "-t1", `-c${flags.connections}`, `-d${durationS}s`, "-s", script, url], {
    stdout: "pipe",
    stderr: "ignore",
  });
  started.add(wrk);
  const clients = clientNames.map((name) => CLIENTS[name]!());
  const wrkOut = await new Response(wrk.stdout).text();
  await wrk.exited;
  loadRunning = false;
  return { wrkOut, clients: Promise.all(clients) };
}

// Event stream clients: each reads for 3–15 s, drops the connection and resumes from the last id it saw.
let eventsRead = 0;
async function eventClient(types?: string) {
  let lastId: string | undefined;
  while (loadRunning) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 3000 + Math.random() * 12_000);
    try {
      const headers: Record<string, string> = lastId ? { "last-event-id": lastId } : {};
      const response = await fetch(`${url}/v1/events${types ? `?types=${types}` : ""}`, {
        headers,
        signal: controller.signal,
      });
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const match of decoder.decode(value).matchAll(/^id: (\d+)$/gm)) {
          lastId = match[1];
          eventsRead++;
        }
      }
    } catch {
      // Aborted on purpose: reconnect.
    } finally {
      clearTimeout(timer);
    }
  }
}
let polls = 0;
async function poller() {
  while (loadRunning) {
    const read = (path: string) => fetch(`${url}${path}`).then((response) => response.arrayBuffer());
    await Promise.all([read("/v1/status"), read("/metrics"), read("/v1/models")]).catch(() => {});
    polls++;
    await Bun.sleep(1000);
  }
}

const loadedAtStart = (await sessions()).loaded;
await Bun.sleep(seconds(flags.settle));
const idle = await memory();
console.error(`idle, ${loadedAtStart} sessions loaded: ${JSON.stringify(idle)}`);

// `--warm S`: the same load for S seconds, then the settle again and a second idle figure, taken once the daemon
// has served each kind of request (its code compiled, its tables made): what the long load adds is then told
// apart from what the first seconds of any load add.
let warmIdle: Memory | undefined;
if (Number(flags.warm) > 0) {
  const warmed = await drive(Number(flags.warm));
  await warmed.clients;
  eventsRead = 0;
  polls = 0;
  await Bun.sleep(seconds(flags.settle));
  warmIdle = await memory();
  console.error(`idle after ${flags.warm} s of the load: ${JSON.stringify(warmIdle)}`);
}

const samples: Array<{ at: number; rss: number }> = [];
const began = Date.now();
// From /proc only: a /metrics scrape each sample would leave its garbage in the quiet that follows the load,
// not in the idle one before it.
const sampler = setInterval(
  () => samples.push({ at: (Date.now() - began) / 1000, rss: residentMb() }),
  seconds(flags.sample),
);
const { wrkOut, clients } = await drive(Math.round(Number(flags.minutes) * 60));
const endOfLoad = await memory();
await clients;
const requests = Number(/(\d+) requests in/.exec(wrkOut)?.[1] ?? 0);
const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(wrkOut)?.[1] ?? 0);
const counts = `${requests} requests, ${non2xx} not 2xx; ${eventsRead} events, ${polls} polls`;
console.error(`end of load: ${JSON.stringify(endOfLoad)}; ${counts}`);
await Bun.sleep(seconds(flags.quiet));
clearInterval(sampler);
const after = await memory();
const { loaded, loads, evictions } = await sessions();
proc.kill("SIGTERM");
await proc.exited;
rmSync(script, { force: true });

const peak = Math.max(idle.rss, endOfLoad.rss, after.rss, ...samples.map((sample) => sample.rss));
const mb = (n: number) => n.toFixed(1);
const cell = (m: Memory) =>
  `${mb(m.rss)} MB (anonymous ${mb(m.anon)}, files ${mb(m.file)}; heap ${mb(m.heap.used)} of ${mb(m.heap.total)}, ` +
  `external ${mb(m.heap.external)}; ${m.threads} threads)`;
const machine = `${cpus().length}× ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB`;
const setting = [
  flags.binary ? "compiled binary" : "sources",
  ...flags["bun-flag"].map((flag) => `bun ${flag}`),
  flags.bare ? "without the unit's environment" : "the unit's environment",
  ...flags.env,
  ...(flags.clients === ALL_CLIENTS ? [] : [`clients: ${flags.clients}`]),
].join(", ");
const load =
  `${flags.minutes} min: ${requests} predict requests (${non2xx} not 2xx), ${eventsRead} events, ${polls} polls; ` +
  `sessions ${loaded} loaded, ${loads} loads, ${evictions} evictions`;
const command = `bun scripts/bench/memory.ts ${Bun.argv.slice(2).join(" ")}`.trim();
console.log(`Command: \`${command}\` — machine: ${machine} — date: ${new Date().toISOString().slice(0, 10)}\n`);
console.log(
  "| Run | Idle, 30 sessions | Peak | End of load | After quiet | After / idle | Load |\n|---|---|---|---|---|---|---|",
);
const percentOf = (base: Memory) => `${((100 * after.rss) / base.rss).toFixed(0)} %`;
const idleCell = warmIdle ? `${cell(idle)}; after ${flags.warm} s of the load: ${cell(warmIdle)}` : cell(idle);
const ratio = warmIdle
  ? `${percentOf(idle)} (${percentOf(warmIdle)} of idle after the ${flags.warm} s)`
  : percentOf(idle);
console.log(`| ${setting} | ${idleCell} | ${mb(peak)} MB | ${cell(endOfLoad)} | ${cell(after)} | ${ratio} | ${load} |`);
console.log(
  `\nRSS samples (s: MB): ${samples.map((sample) => `${sample.at.toFixed(0)}: ${mb(sample.rss)}`).join(", ")}`,
);
