/**
 * Training benchmarks, run by hand: `bun scripts/bench/training.ts [--quick]`.
 * Compares edgetrain's random forest with the scikit-learn peer (../shared/bench/sklearn_rf.py) in the same
 * run, on data from ../shared/tools/make_athletes.py, and prints a Markdown table for the README.
 * Needs Debian's python3-sklearn and python3-numpy for the peer and the data.
 */
import { existsSync, mkdirSync, utimesSync } from "node:fs";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import incrementalNn from "../../plugins/strategies/incremental-nn/index.ts";
import randomForest from "../../plugins/strategies/random-forest/index.ts";
import * as v from "valibot";
import { loadTrainingData } from "../../runtime/data/load-training-data.ts";
import { sessionKeys } from "../../runtime/data/sessions.ts";
import { DataSourceSpec } from "../../runtime/data/source-spec.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import type { PluginModule } from "../../runtime/plugin-api.ts";
import { registryOf } from "../../runtime/plugins/registry.ts";
import { runStrategy } from "../../runtime/training/run-strategy.ts";
import { buildTarget } from "../build.ts";

const root = resolve(import.meta.dir, "../..");
const shared = resolve(root, "../shared");
const python = "/usr/bin/python3";
const work = "/tmp/edgetrain-bench";
const quick = Bun.argv.includes("--quick");
mkdirSync(work, { recursive: true });

function run(command: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawnSync(command, { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  if (proc.exitCode !== 0) throw new Error(`${command.join(" ")} failed: ${proc.stderr.toString()}`);
  // resourceUsage().maxRSS is in bytes under Bun, and like getrusage(RUSAGE_CHILDREN) it is the largest of
  // all children so far: it is read only for the first two, which run first and grow in size.
  const maxRssMb = (proc.resourceUsage?.maxRSS ?? 0) / 1048576;
  return { stdout: proc.stdout.toString(), maxRssMb };
}

function makeData(name: string, args: string[]) {
  const marker = join(work, `${name}.done`);
  if (!existsSync(marker)) {
    run([python, join(shared, "tools/make_athletes.py"), "--out", join(work, name), ...args]);
    Bun.write(marker, "");
  }
  return join(work, name);
}

const rows: Array<[string, string, string, string]> = [];
const report = (what: string, edgetrain: string, peer: string, verdict: string) => {
  rows.push([what, edgetrain, peer, verdict]);
  console.error(`${what}: ${edgetrain} | ${peer} | ${verdict}`);
};

// 3. The Nano case: 30 players × 4 sessions × 2,000 rows, one forest per player, 2 workers.
async function trainKeys(plugin: PluginModule<"strategy">, options: Record<string, unknown>, spec: unknown, dataRoot: string, keys: string[], previous?: (key: string) => string | undefined) {
  const plugins = registryOf([plugin]);
  const source = v.parse(DataSourceSpec, spec);
  const started = performance.now();
  let peakRss = 0;
  for (const key of keys) {
    const runDir = join(work, "runs", plugin.name, key);
    mkdirSync(runDir, { recursive: true });
    await runStrategy({
      strategy: plugin.name,
      options,
      scope: { plugins, logger: silentLogger, paths: { home: work, data: dataRoot, models: work, cache: work, logs: work, state: work, plugins: work } },
      job: "bench", key, runDir, signal: new AbortController().signal,
      previousArtifact: previous?.(key),
      loadData: () => loadTrainingData(source, { dataRoot, key, now: Date.parse("2026-03-01T12:00:00Z") }),
    });
    peakRss = Math.max(peakRss, process.memoryUsage.rss() / 1048576);
  }
  return { seconds: (performance.now() - started) / 1000, peakRss };
}
const athletes = makeData("athletes-30x4x2000", ["--players", "30", "--sessions", "4", "--rows", "2000"]);
const players = sessionKeys(athletes);
async function nanoCase() {
const nano = await trainKeys(randomForest, { n_estimators: 100, max_depth: 8, min_samples_split: 5, min_samples_leaf: 10, n_jobs: 2 }, { source: "sessions", path: ".", sessions_to_use: 3, debounce: 0 }, athletes, players);
return nano;
}

// 4. The t3.micro case: 100 keys × the last 6 h of rows, warm start, 5 epochs.
async function nnCase() {
const prices = join(work, "prices");
if (!existsSync(join(prices, "rows.csv"))) {
  mkdirSync(prices, { recursive: true });
  const now = Date.parse("2026-03-01T12:00:00Z");
  const lines = ["timestamp,symbol,open,high,low,volume,spread,momentum,label"];
  for (let minute = 0; minute < 7 * 24 * 60; minute += 5) {
    for (let s = 0; s < 100; s++) {
      const base = 100 + s + Math.sin((minute + s * 13) / 300) * 5;
      const momentum = Math.cos((minute + s) / 97);
      lines.push(`${new Date(now - minute * 60_000).toISOString()},S${s},${base.toFixed(3)},${(base + 1).toFixed(3)},${(base - 1).toFixed(3)},${(1000 + ((minute * 7 + s) % 500))},${(0.01 * (s % 7)).toFixed(3)},${momentum.toFixed(4)},${(base + 2 * momentum).toFixed(4)}`);
    }
  }
  await Bun.write(join(prices, "rows.csv"), lines.join("\n") + "\n");
}
const symbols = Array.from({ length: 100 }, (_, s) => `S${s}`);
const nnSource = { source: "rows", path: ".", timestamp: "timestamp", key_column: "symbol", debounce: 0 };
await trainKeys(incrementalNn, { task: "regression", epochs: 50, layers: [16] }, { ...nnSource, last: "180d" }, prices, symbols);
// New rows arrived: the files change, so the timed run reads them again (once for all keys).
utimesSync(join(prices, "rows.csv"), new Date(), new Date());
const warm = await trainKeys(incrementalNn, { task: "regression", epochs: 5, layers: [16], warm_start: true }, { ...nnSource, last: "6h" }, prices, symbols, (key) => join(work, "runs", "incremental-nn", key, "model.onnx"));
return warm;
}


const caseName = Bun.argv.includes("--case") ? Bun.argv[Bun.argv.indexOf("--case") + 1] : undefined;
if (caseName) {
  const result = caseName === "nano" ? await nanoCase() : await nnCase();
  // The kernel's high-water mark of this process: getrusage over children would mix in earlier cases.
  const peakRssMb = Number(/VmHWM:\s+(\d+)/.exec(await Bun.file("/proc/self/status").text())?.[1] ?? 0) / 1024;
  console.log(JSON.stringify({ ...result, peakRssMb }));
  process.exit(0);
}

// 1. 200k × 20, 100 trees, depth 8, 2 workers, against scikit-learn n_jobs=2.
const bigRows = quick ? 50_000 : 200_000;
const big = makeData(`single-${bigRows}`, ["--single", "train.csv", "--rows", String(bigRows)]);
makeData(`single-${bigRows}-test`, ["--single", "test.csv", "--rows", "50000", "--seed", "8"]);
const testFile = join(work, `single-${bigRows}-test`, "test.csv");
const forestArgs = ["--set", "n_estimators=100", "--set", "max_depth=8", "--set", "min_samples_split=5", "--set", "min_samples_leaf=10", "--set", "n_jobs=2"];
const ours = run([process.execPath, join(root, "runtime/cli/main.ts"), "fit", "--strategy", "random-forest", "--data", join(big, "train.csv"), "--test", testFile, "--out", join(work, "big.onnx"), "--json", ...forestArgs], { HOME: work });
const oursJson = JSON.parse(ours.stdout.trim().split("\n").at(-1)!) as { fit_seconds: number; accuracy: number };
const peer = run([python, join(shared, "bench/sklearn_rf.py"), "--train", join(big, "train.csv"), "--test", testFile, "--n-jobs", "2"]);
const peerJson = JSON.parse(peer.stdout) as { fit_seconds: number; accuracy: number };
report(
  `random forest, ${bigRows / 1000}k rows × 20, 100 trees, depth 8, 2 workers: fit time`,
  `${oursJson.fit_seconds.toFixed(2)} s`,
  `${peerJson.fit_seconds.toFixed(2)} s`,
  `${(oursJson.fit_seconds / peerJson.fit_seconds).toFixed(3)}× the peer's time (target ≤ 0.333)`,
);
report("  accuracy on 50k held-out rows", oursJson.accuracy.toFixed(4), peerJson.accuracy.toFixed(4), `${((oursJson.accuracy - peerJson.accuracy) * 100).toFixed(2)} points (target ≥ −1)`);
report("  peak RSS of the whole process", `${ours.maxRssMb.toFixed(0)} MB`, `${peer.maxRssMb.toFixed(0)} MB`, `target < 600 MB`);

// 2. The compiled binary gives the same figures as `bun run`.
const binary = await buildTarget(`linux-${process.arch}` as "linux-x64", join(work, "dist"));
const compiled = run([binary, "fit", "--strategy", "random-forest", "--data", join(big, "train.csv"), "--test", testFile, "--out", join(work, "big-compiled.onnx"), "--json", ...forestArgs], { HOME: work });
const compiledJson = JSON.parse(compiled.stdout.trim().split("\n").at(-1)!) as { fit_seconds: number; accuracy: number };
const sameModel = Buffer.from(await Bun.file(join(work, "big.onnx")).arrayBuffer()).equals(Buffer.from(await Bun.file(join(work, "big-compiled.onnx")).arrayBuffer()));
report("  compiled binary vs bun run", `${compiledJson.fit_seconds.toFixed(2)} s, accuracy ${compiledJson.accuracy.toFixed(4)}`, `${oursJson.fit_seconds.toFixed(2)} s (bun run)`, sameModel ? "identical model bytes" : "MODELS DIFFER");

// 3 and 4 run in child processes of this script, so that each peak RSS is that case's own.
function runCase(name: string): { seconds: number; peakRssMb: number } {
  const child = run([process.execPath, import.meta.path, "--case", name]);
  return JSON.parse(child.stdout.trim().split("\n").at(-1)!) as { seconds: number; peakRssMb: number };
}
const nano = runCase("nano");
report(`30 per-player forests (latest 3 of 4 sessions × 2,000 rows, 100 trees, 2 workers)`, `${nano.seconds.toFixed(1)} s`, "—", `target < 60 s; peak RSS ${nano.peakRssMb.toFixed(0)} MB`);
const nn = runCase("nn");
report("100 incremental-nn updates (last 6 h of rows each, warm start, 5 epochs), CSV read included", `${nn.seconds.toFixed(1)} s`, "—", `target < 60 s; peak RSS ${nn.peakRssMb.toFixed(0)} MB (target < 400 MB)`);

const machine = `${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores`;
console.log(`\nCommand: bun scripts/bench/training.ts${quick ? " --quick" : ""} · Machine: ${machine} · Date: ${new Date().toISOString().slice(0, 10)}\n`);
console.log("| Benchmark | edgetrain | scikit-learn peer | Result |\n| --- | --- | --- | --- |");
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
