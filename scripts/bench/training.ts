/**
 * Training benchmarks, run by hand: `bun scripts/bench/training.ts [--quick] [--forest-only] [--shared DIR]`.
 * Compares edgetrain's random forest with XGBoost's random-forest mode (../shared/bench/xgboost_rf.py, and
 * xgboost_rf_regressor.py here) and scikit-learn (../shared/bench/sklearn_rf.py) in the same run, on data from
 * ../shared/tools/make_athletes.py, and prints a Markdown table for docs/performance.md. --forest-only stops
 * after the two forest cases; --shared names the shared folder when it is not ../shared (a worktree).
 * Needs Debian's python3-sklearn, python3-xgboost and python3-numpy for the peers and the data.
 */
import { existsSync, mkdirSync, utimesSync } from "node:fs";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import * as v from "valibot";
import incrementalNn from "../../plugins/strategies/incremental-nn/index.ts";
import randomForest from "../../plugins/strategies/random-forest/index.ts";
import { loadTrainingData } from "../../runtime/data/load-training-data.ts";
import { sessionKeys } from "../../runtime/data/sessions.ts";
import { DataSourceSpec } from "../../runtime/data/source-spec.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import type { PluginModule } from "../../runtime/plugin-api.ts";
import { registryOf } from "../../runtime/plugins/registry.ts";
import { runStrategy } from "../../runtime/training/run-strategy.ts";
import { buildTarget } from "../build.ts";

const root = resolve(import.meta.dir, "../..");
const sharedFlag = Bun.argv.indexOf("--shared");
const shared = sharedFlag > 0 ? resolve(Bun.argv[sharedFlag + 1]!) : resolve(root, "../shared");
const python = "/usr/bin/python3";
const work = "/tmp/edgetrain-bench";
const quick = Bun.argv.includes("--quick");
const forestOnly = Bun.argv.includes("--forest-only");
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

const rows: string[][] = [];
const report = (what: string, edgetrain: string, xgboost: string, sklearn: string, verdict: string) => {
  rows.push([what, edgetrain, xgboost, sklearn, verdict]);
  console.error(`${what}: ${edgetrain} | ${xgboost} | ${sklearn} | ${verdict}`);
};
const table = () => {
  const machine = `${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores`;
  const flags = [quick && " --quick", forestOnly && " --forest-only"].filter(Boolean).join("");
  console.log(
    `\nCommand: bun scripts/bench/training.ts${flags} · Machine: ${machine} · Date: ` +
      `${new Date().toISOString().slice(0, 10)}\n`,
  );
  console.log("| Benchmark | edgetrain | XGBoost RF | scikit-learn | Result |\n| --- | --- | --- | --- | --- |");
  for (const row of rows) console.log(`| ${row.join(" | ")} |`);
};
const seconds = (s: number) => `${s.toFixed(2)} s`;

// 3. The Nano case: 30 players × 4 sessions × 2,000 rows, one forest per player, 2 workers.
async function trainKeys(
  plugin: PluginModule<"strategy">,
  options: Record<string, unknown>,
  spec: unknown,
  dataRoot: string,
  keys: string[],
  previous?: (key: string) => string | undefined,
) {
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
      scope: {
        plugins,
        logger: silentLogger,
        paths: { home: work, data: dataRoot, models: work, cache: work, logs: work, state: work, plugins: work },
      },
      job: "bench",
      key,
      runDir,
      signal: new AbortController().signal,
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
  const nano = await trainKeys(
    randomForest,
    { n_estimators: 100, max_depth: 8, min_samples_split: 5, min_samples_leaf: 10, n_jobs: 2 },
    { source: "sessions", path: ".", sessions_to_use: 3, debounce: 0 },
    athletes,
    players,
  );
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
        const row = [
          new Date(now - minute * 60_000).toISOString(),
          `S${s}`,
          base.toFixed(3),
          (base + 1).toFixed(3),
          (base - 1).toFixed(3),
          1000 + ((minute * 7 + s) % 500),
          (0.01 * (s % 7)).toFixed(3),
          momentum.toFixed(4),
          (base + 2 * momentum).toFixed(4),
        ];
        lines.push(row.join(","));
      }
    }
    await Bun.write(join(prices, "rows.csv"), `${lines.join("\n")}\n`);
  }
  const symbols = Array.from({ length: 100 }, (_, s) => `S${s}`);
  const nnSource = { source: "rows", path: ".", timestamp: "timestamp", key_column: "symbol", debounce: 0 };
  await trainKeys(
    incrementalNn,
    { task: "regression", epochs: 50, layers: [16] },
    { ...nnSource, last: "180d" },
    prices,
    symbols,
  );
  // New rows arrived: the files change, so the timed run reads them again (once for all keys).
  utimesSync(join(prices, "rows.csv"), new Date(), new Date());
  const warm = await trainKeys(
    incrementalNn,
    { task: "regression", epochs: 5, layers: [16], warm_start: true },
    { ...nnSource, last: "6h" },
    prices,
    symbols,
    (key) => join(work, "runs", "incremental-nn", key, "model.onnx"),
  );
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

// 1. 200k × 20, 100 trees, depth 8, 2 workers, against XGBoost's random-forest mode and scikit-learn, n_jobs=2.
const bigRows = quick ? 50_000 : 200_000;
const big = makeData(`single-${bigRows}`, ["--single", "train.csv", "--rows", String(bigRows)]);
makeData(`single-${bigRows}-test`, ["--single", "test.csv", "--rows", "50000", "--seed", "8"]);
const trainFile = join(big, "train.csv");
const testFile = join(work, `single-${bigRows}-test`, "test.csv");
const forestArgs = [
  "--set",
  "n_estimators=100",
  "--set",
  "max_depth=8",
  "--set",
  "min_samples_split=5",
  "--set",
  "min_samples_leaf=10",
  "--set",
  "n_jobs=2",
];
type Fit = { fit_seconds: number; accuracy: number; rmse: number };
const fit = (args: string[], out: string, command = [process.execPath, join(root, "runtime/cli/main.ts")]) => {
  const result = run(
    [
      ...command,
      "fit",
      "--strategy",
      "random-forest",
      "--data",
      trainFile,
      "--test",
      testFile,
      "--out",
      join(work, out),
      "--json",
      ...forestArgs,
      ...args,
    ],
    { HOME: work },
  );
  return { ...(JSON.parse(result.stdout.trim().split("\n").at(-1)!) as Fit), maxRssMb: result.maxRssMb };
};
const peer = (command: string[]) => {
  const result = run(command);
  return { ...(JSON.parse(result.stdout) as Fit), maxRssMb: result.maxRssMb };
};
const sklearnArgs = [
  python,
  join(shared, "bench/sklearn_rf.py"),
  "--train",
  trainFile,
  "--test",
  testFile,
  "--n-jobs",
  "2",
];
const ratios = (ours: number, xgboost: number, sklearn: number) =>
  `${(ours / xgboost).toFixed(3)}× XGBoost's time (target ≤ 0.333), ${(ours / sklearn).toFixed(3)}× scikit-learn's`;

const ours = fit([], "big.onnx");
const sklearnClassifier = peer(sklearnArgs);
const xgboostClassifier = peer([python, join(shared, "bench/xgboost_rf.py"), trainFile, testFile]);
report(
  `random forest, ${bigRows / 1000}k rows × 20, 5 classes, 100 trees, depth 8, 2 workers: fit time`,
  seconds(ours.fit_seconds),
  seconds(xgboostClassifier.fit_seconds),
  seconds(sklearnClassifier.fit_seconds),
  ratios(ours.fit_seconds, xgboostClassifier.fit_seconds, sklearnClassifier.fit_seconds),
);
report(
  "  accuracy on 50k held-out rows",
  ours.accuracy.toFixed(4),
  xgboostClassifier.accuracy.toFixed(4),
  sklearnClassifier.accuracy.toFixed(4),
  `${((ours.accuracy - sklearnClassifier.accuracy) * 100).toFixed(2)} points vs scikit-learn (target ≥ −1)`,
);
// resourceUsage().maxRSS covers all children so far: only the first two, which grow in size, are read.
report(
  "  peak RSS of the whole process",
  `${ours.maxRssMb.toFixed(0)} MB`,
  "—",
  `${sklearnClassifier.maxRssMb.toFixed(0)} MB`,
  "target < 600 MB",
);

// The same table, predicting power_w from the other 19 numeric columns: every feature at every split.
const regressionArgs = ["--task", "regression", "--label", "power_w"];
const oursRegression = fit(regressionArgs, "big-regression.onnx");
const xgboostRegressor = peer([
  python,
  join(root, "scripts/bench/xgboost_rf_regressor.py"),
  trainFile,
  testFile,
  "power_w",
]);
const sklearnRegressor = peer([...sklearnArgs, "--task", "regression", "--label", "power_w"]);
report(
  `random forest regression, ${bigRows / 1000}k rows × 19 (power_w), 100 trees, depth 8, 2 workers: fit time`,
  seconds(oursRegression.fit_seconds),
  seconds(xgboostRegressor.fit_seconds),
  seconds(sklearnRegressor.fit_seconds),
  ratios(oursRegression.fit_seconds, xgboostRegressor.fit_seconds, sklearnRegressor.fit_seconds),
);
report(
  "  RMSE on 50k held-out rows",
  oursRegression.rmse.toFixed(3),
  xgboostRegressor.rmse.toFixed(3),
  sklearnRegressor.rmse.toFixed(3),
  `${((oursRegression.rmse / sklearnRegressor.rmse - 1) * 100).toFixed(2)} % vs scikit-learn (target ≤ +2 %)`,
);
if (forestOnly) {
  table();
  process.exit(0);
}

// 2. The compiled binary gives the same figures as `bun run`.
const binary = await buildTarget(`linux-${process.arch}` as "linux-x64", join(work, "dist"));
const compiled = fit([], "big-compiled.onnx", [binary]);
const sameModel = Buffer.from(await Bun.file(join(work, "big.onnx")).arrayBuffer()).equals(
  Buffer.from(await Bun.file(join(work, "big-compiled.onnx")).arrayBuffer()),
);
report(
  "  compiled binary vs bun run",
  `${seconds(compiled.fit_seconds)}, accuracy ${compiled.accuracy.toFixed(4)}`,
  "—",
  `${seconds(ours.fit_seconds)} (bun run)`,
  sameModel ? "identical model bytes" : "MODELS DIFFER",
);

// 3 and 4 run in child processes of this script, so that each peak RSS is that case's own.
function runCase(name: string): { seconds: number; peakRssMb: number } {
  const child = run([process.execPath, import.meta.path, "--case", name]);
  return JSON.parse(child.stdout.trim().split("\n").at(-1)!) as { seconds: number; peakRssMb: number };
}
const nano = runCase("nano");
report(
  `30 per-player forests (latest 3 of 4 sessions × 2,000 rows, 100 trees, 2 workers)`,
  `${nano.seconds.toFixed(1)} s`,
  "—",
  "—",
  `target < 60 s; peak RSS ${nano.peakRssMb.toFixed(0)} MB`,
);
const nn = runCase("nn");
report(
  "100 incremental-nn updates (last 6 h of rows each, warm start, 5 epochs), CSV read included",
  `${nn.seconds.toFixed(1)} s`,
  "—",
  "—",
  `target < 60 s; peak RSS ${nn.peakRssMb.toFixed(0)} MB (target < 400 MB)`,
);

table();
