/**
 * What taking a core back from idle-class work costs on this machine, run by hand:
 * `bun scripts/bench/preemption.ts`. Prints a Markdown table for the README.
 *
 * Training runs in the idle class (SCHED_IDLE), which the kernel preempts as soon as a normal thread
 * wants the core. The serving bench still finds a request's p99 higher while a run trains; this bench
 * separates the machine's share of that from edgetrain's, with no edgetrain code in the measured path:
 * - a fixed computation, timed with the other cores idle and with plain idle-class spinners on them
 *   (shared execution units or a lower clock would slow it);
 * - round trips of one byte between two processes through pipes (Debian's python3), 1 ms apart like a
 *   steady client: with no spinner, with one on every core but one (a core left free, as training leaves
 *   one to serving under load), with one on every core (each wakeup takes a core back from one), the
 *   same at nice 19 instead of the idle class, with spinners that sleep briefly after each slice, and the
 *   same with both processes and one spinner pinned to one core, so that every wakeup takes back the core
 *   it happens on instead of another one.
 */
import { cpus, totalmem } from "node:os";

const cores = cpus().length;
const ROUNDS = 3;
const TRIPS = 5000;
const fmt = (n: number, digits = 2) => n.toFixed(digits);

type Spinners = { count: number; policy?: "idle" | "nice"; pinned?: boolean; napEveryMs?: number };

// The same plain hog as the serving bench's CPU peer, in the class training threads run in (or at nice 19,
// the other way to lower a thread); pinned, spinner i stays on core i.
// With napEveryMs, each spinner sleeps 50 µs after each such slice: does a thread that gives its core up often
// shorten the wait of the one woken onto it?
const spin = (napEveryMs?: number) =>
  napEveryMs === undefined
    ? "for (;;) {}"
    : "const nap = new Int32Array(new SharedArrayBuffer(4)); for (;;) { const start = performance.now(); " +
      `while (performance.now() - start < ${napEveryMs}); Atomics.wait(nap, 0, 0, 0.05); }`;
const startSpinners = async ({ count, policy = "idle", pinned = false, napEveryMs }: Spinners) => {
  const lowered = policy === "idle" ? ["chrt", "--idle", "0"] : ["nice", "-n", "19"];
  const pin = (core: number) => (pinned ? ["taskset", "-c", String(core)] : []);
  const spinners = Array.from({ length: count }, (_, core) =>
    Bun.spawn([...pin(core), ...lowered, process.execPath, "-e", spin(napEveryMs)], {
      stdout: "ignore",
      stderr: "ignore",
    }),
  );
  await Bun.sleep(500);
  return () => spinners.forEach((spinner) => spinner.kill());
};

const fixedWork = () => {
  let x = 1;
  for (let i = 0; i < 50_000_000; i++) x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
  return x;
};
const medianMs = (samples: number[]) => samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
const timeWork = () => {
  const samples: number[] = [];
  for (let i = 0; i < 9; i++) {
    const start = performance.now();
    fixedWork();
    samples.push(performance.now() - start);
  }
  return medianMs(samples);
};

// Python's os.read and os.write are the bare system calls: Bun's event loop between them measured its own
// pauses (tens of trips over 0.5 ms with no spinner at all), which hid what this bench looks for. The
// times are printed at the end: a line per trip would wake this process, on a core the probe may need.
const ROUND_TRIPS = `
import os, sys, time
r1, w1 = os.pipe(); r2, w2 = os.pipe()
if os.fork() == 0:
    os.close(w1); os.close(r2)
    while True:
        b = os.read(r1, 1)
        if not b: os._exit(0)
        os.write(w2, b)
os.close(r1); os.close(w2)
trips = []
for _ in range(int(sys.argv[1])):
    start = time.perf_counter_ns(); os.write(w1, b"x"); os.read(r2, 1)
    trips.append((time.perf_counter_ns() - start) / 1e6)
    time.sleep(0.001)
os.close(w1)
print("\\n".join(map(str, trips)))
`;
const roundTrips = (count: number, core?: number): number[] => {
  const pin = core === undefined ? [] : ["taskset", "-c", String(core)];
  const result = Bun.spawnSync([...pin, "/usr/bin/python3", "-c", ROUND_TRIPS, String(count)]);
  if (!result.success) throw new Error(`the round-trip probe failed: ${result.stderr.toString()}`);
  return result.stdout.toString().trim().split("\n").map(Number);
};
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;

const cases: Array<{ name: string; spinners: Spinners; probeCore?: number }> = [
  { name: "no spinner", spinners: { count: 0 } },
  { name: `${cores - 1} idle-class spinner(s): a core left free`, spinners: { count: cores - 1 } },
  { name: `${cores} idle-class spinners: every core taken back`, spinners: { count: cores } },
  { name: `${cores} spinners at nice 19 instead of the idle class`, spinners: { count: cores, policy: "nice" } },
  {
    name: `${cores} idle-class spinners that sleep 50 µs after every 1 ms`,
    spinners: { count: cores, napEveryMs: 1 },
  },
  {
    name: `${cores} idle-class spinners that sleep 50 µs after every 0.5 ms`,
    spinners: { count: cores, napEveryMs: 0.5 },
  },
  {
    name: `${cores} idle-class spinners, one per core, both processes on core 0: every wakeup on its own core`,
    spinners: { count: cores, pinned: true },
    probeCore: 0,
  },
];

const work = { idle: [] as number[], spun: [] as number[] };
const trips = new Map(cases.map((c) => [c.name, [] as number[]]));
for (let round = 0; round < ROUNDS; round++) {
  work.idle.push(timeWork());
  const stopForWork = await startSpinners({ count: cores - 1 });
  work.spun.push(timeWork());
  stopForWork();
  for (const c of cases) {
    const stop = await startSpinners(c.spinners);
    trips.get(c.name)!.push(...roundTrips(TRIPS, c.probeCore));
    stop();
    await Bun.sleep(300);
  }
  console.error(`round ${round + 1} of ${ROUNDS} done`);
}

const rows: string[][] = [];
const idleWork = medianMs(work.idle);
const spunWork = medianMs(work.spun);
rows.push([
  `fixed computation (50M multiply-adds), other cores idle → ${cores - 1} idle-class spinner(s) on them`,
  `${fmt(idleWork, 1)} ms → ${fmt(spunWork, 1)} ms`,
  `${fmt(spunWork / idleWork)}×`,
]);
const baseline = [...trips.get(cases[0]!.name)!].sort((a, b) => a - b);
for (const c of cases) {
  const sorted = [...trips.get(c.name)!].sort((a, b) => a - b);
  const slow = sorted.filter((ms) => ms > 0.5);
  rows.push([
    `one-byte round trip through a pipe, 1 ms apart, ${c.name} (${sorted.length} trips)`,
    `p50 ${fmt(quantile(sorted, 0.5) * 1000, 0)} µs, p99 ${fmt(quantile(sorted, 0.99) * 1000, 0)} µs, p99.9 ` +
      `${fmt(quantile(sorted, 0.999), 2)} ms; ${slow.length} over 0.5 ms (largest ${fmt(sorted.at(-1)!, 2)} ms)`,
    c.spinners.count === 0 ? "—" : `p99.9 ${fmt(quantile(sorted, 0.999) / quantile(baseline, 0.999))}× no spinner's`,
  ]);
}

const machine = `${cores}× ${cpus()[0]?.model.trim()}, ${fmt(totalmem() / 2 ** 30, 1)} GiB`;
console.log(
  `Command: \`bun scripts/bench/preemption.ts\` — machine: ${machine} — date: ` +
    `${new Date().toISOString().slice(0, 10)}\n`,
);
console.log("| Measure | Result | Ratio |\n|---|---|---|");
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
