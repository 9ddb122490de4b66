/**
 * Batch scoring benchmark, run by hand under the bench lock:
 *   flock /tmp/edgetrain-bench.lock bun scripts/bench/batch-score.ts [--rows 1000000] [--repeats 3] [--trees 100]
 *     [--depth 8] [--shared ../shared]
 *
 * Scores one CSV of athletes rows (../shared/tools/make_athletes.py) with a random forest, writing a
 * predictions file (line, timestamp, prediction, model, version), two ways in the same run:
 * - edgetrain: a score job (`score: predictions`) run by `edgetrain train` on a home whose model was trained
 *   by `edgetrain fit` and added with `edgetrain models add … --activate`;
 * - a pandas + scikit-learn script (Debian's /usr/bin/python3): read_csv, a RandomForestClassifier of the same
 *   size trained on the same rows (unpickled, not timed), predict, to_csv under a temporary name and a rename.
 * Both predict on one thread. The scoring time is the read, the predictions and the write (edgetrain's own run
 * summary; the script's clock around the same three steps); the process time adds start-up and model loading.
 * Peak RSS is each process's high-water mark (wait4's maxRSS, as VmHWM). Prints a Markdown table.
 */
import { existsSync, mkdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dir, "../..");
const python = "/usr/bin/python3";
const work = "/tmp/edgetrain-bench/batch-score";
const cli = join(root, "runtime/cli/main.ts");
const argv = Bun.argv;
const flag = (name: string, fallback: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1]! : fallback);
/** The shared folder beside the checkout (tools/make_athletes.py); --shared for a worktree elsewhere. */
const shared = resolve(flag("--shared", resolve(root, "../shared")));
const rows = Number(flag("--rows", "1000000"));
const repeats = Number(flag("--repeats", "3"));
const trees = Number(flag("--trees", "100"));
const depth = Number(flag("--depth", "8"));
const TRAIN_ROWS = 200_000;

interface Reading {
  /** Read, predict and write. */
  scoringSeconds: number;
  /** The whole process, start-up and model loading included. */
  processSeconds: number;
  rows: number;
  peakRssMb: number;
}

function spawn(command: string[], env: Record<string, string> = {}) {
  const started = performance.now();
  const proc = Bun.spawnSync(command, { stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH, ...env } });
  const seconds = (performance.now() - started) / 1000;
  if (proc.exitCode !== 0) throw new Error(`${command.join(" ")} failed: ${proc.stderr.toString()}`);
  return { stdout: proc.stdout.toString(), seconds, peakRssMb: (proc.resourceUsage?.maxRSS ?? 0) / 1048576 };
}

function makeData(name: string, count: number, seed: number): string {
  const dir = join(work, `${name}-${count}-${seed}`);
  const file = join(dir, `${name}.csv`);
  if (!existsSync(join(dir, "done"))) {
    const made = ["--out", dir, "--single", `${name}.csv`, "--rows", String(count), "--seed", String(seed)];
    spawn([python, join(shared, "tools/make_athletes.py"), ...made]);
    writeFileSync(join(dir, "done"), "");
  }
  return file;
}

const TRAIN_PEER = `
import pickle, sys
import numpy as np, pandas as pd
from sklearn.ensemble import RandomForestClassifier
train, out, trees, depth = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
df = pd.read_csv(train)
features = [c for c in df.columns if c not in ("timestamp", "label")]
model = RandomForestClassifier(n_estimators=trees, max_depth=depth, n_jobs=2, random_state=0)
model.fit(df[features].to_numpy(np.float32), df["label"])
model.n_jobs = 1
with open(out, "wb") as f:
    pickle.dump((model, features), f)
`;

const SCORE_PEER = `
import json, os, pickle, sys, time
import numpy as np, pandas as pd
model_file, data, out = sys.argv[1], sys.argv[2], sys.argv[3]
with open(model_file, "rb") as f:
    model, features = pickle.load(f)
t = time.perf_counter()
df = pd.read_csv(data)
predicted = model.predict(df[features].to_numpy(np.float32))
result = pd.DataFrame({"line": np.arange(2, len(df) + 2), "timestamp": df["timestamp"], "prediction": predicted,
                       "model": "athletes", "version": 1})
result.to_csv(out + ".partial", index=False)
os.replace(out + ".partial", out)
print(json.dumps({"seconds": time.perf_counter() - t, "rows": len(df)}))
`;

function setUp() {
  const train = makeData("train", TRAIN_ROWS, 7);
  const score = makeData("score", rows, 11);
  const home = join(work, `home-${rows}-${trees}-${depth}`);
  const model = join(work, `model-${trees}-${depth}.onnx`);
  const pickled = join(work, `sklearn-${trees}-${depth}.pkl`);
  if (!existsSync(model)) {
    const settings = ["--set", `n_estimators=${trees}`, "--set", `max_depth=${depth}`];
    spawn([process.execPath, cli, "fit", "--strategy", "random-forest", "--data", train, ...settings, "--out", model]);
  }
  if (!existsSync(pickled)) spawn([python, "-c", TRAIN_PEER, train, pickled, String(trees), String(depth)]);
  if (!existsSync(join(home, "models/athletes"))) {
    rmSync(home, { recursive: true, force: true });
    mkdirSync(join(home, "data/incoming"), { recursive: true });
    writeFileSync(
      join(home, "profile.yaml"),
      `extends: base
paths:
  home: ${home}
governor: { max_cpu_before: 100, max_memory_before: 100, pause_cpu: 100, pause_memory: 100 }
jobs:
  bench:
    score: predictions
    model: athletes
    options: { columns: [timestamp] }
    data: { source: rows, path: incoming, debounce: 0 }
`,
    );
    spawn([process.execPath, cli, "models", "add", "athletes", model, "--activate", "--home", home], { HOME: home });
  }
  const input = join(home, "data/incoming/score.csv");
  if (!existsSync(input)) Bun.spawnSync(["ln", "-s", score, input]);
  return { home, input, score, pickled };
}

function edgetrainRun(home: string, input: string): Reading {
  // A new mtime makes the file new to the job; its last output goes, so each run writes it again.
  utimesSync(input, new Date(), new Date());
  rmSync(join(home, "data/incoming/score.predictions.csv"), { force: true });
  const run = spawn([process.execPath, cli, "train", "bench", "--home", home, "--force", "--json"], { HOME: home });
  const [outcome] = (JSON.parse(run.stdout) as { runs: Array<{ score: { seconds: number; rows: number } }> }).runs;
  const { seconds, rows } = outcome!.score;
  return { scoringSeconds: seconds, processSeconds: run.seconds, rows, peakRssMb: run.peakRssMb };
}

function sklearnRun(pickled: string, score: string): Reading {
  const out = join(work, "sklearn.predictions.csv");
  const run = spawn([python, "-c", SCORE_PEER, pickled, score, out]);
  const answer = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as { seconds: number; rows: number };
  return { scoringSeconds: answer.seconds, processSeconds: run.seconds, rows: answer.rows, peakRssMb: run.peakRssMb };
}

/** How often the two models name the same class: they are trained apart, so near but not equal. */
async function agreement(home: string): Promise<number> {
  const column = async (file: string, index: number) =>
    (await Bun.file(file).text())
      .trimEnd()
      .split("\n")
      .slice(1)
      .map((line) => line.split(",")[index]);
  const ours = await column(join(home, "data/incoming/score.predictions.csv"), 2);
  const theirs = await column(join(work, "sklearn.predictions.csv"), 2);
  return ours.filter((label, i) => label === theirs[i]).length / Math.max(1, ours.length);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const { home, input, score, pickled } = setUp();
await Bun.file(score).arrayBuffer(); // the page cache holds the file for both alike
const results: Record<string, Reading[]> = { edgetrain: [], "pandas + scikit-learn": [] };
for (let r = 0; r < repeats; r++) {
  for (const [name, reading] of [
    ["edgetrain", () => edgetrainRun(home, input)],
    ["pandas + scikit-learn", () => sklearnRun(pickled, score)],
  ] as const) {
    const result = reading();
    results[name]!.push(result);
    const { scoringSeconds, processSeconds, peakRssMb } = result;
    console.error(
      `${name}: scoring ${scoringSeconds.toFixed(2)} s, process ${processSeconds.toFixed(2)} s, ` +
        `${peakRssMb.toFixed(0)} MB`,
    );
  }
}
const same = await agreement(home);

const sizeMb = Bun.file(score).size / 1e6;
const machine = `${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores`;
const given = argv.length > 2 ? ` ${argv.slice(2).join(" ")}` : "";
const command = `flock /tmp/edgetrain-bench.lock bun scripts/bench/batch-score.ts${given}`;
console.log(`\nCommand: ${command} · Machine: ${machine} · Date: ${new Date().toISOString().slice(0, 10)}\n`);
console.log(
  `${rows.toLocaleString("en")} rows (${sizeMb.toFixed(0)} MB), a forest of ${trees} trees of depth ${depth}.\n`,
);
console.log("| Scorer | Rows/s (scoring) | Scoring, median (min–max) | Process, median | Peak RSS, median |");
console.log("| --- | --- | --- | --- | --- |");
for (const [name, readings] of Object.entries(results)) {
  const scoring = readings.map((r) => r.scoringSeconds);
  const rate = readings[0]!.rows / median(scoring);
  const range = `${Math.min(...scoring).toFixed(2)}–${Math.max(...scoring).toFixed(2)}`;
  const spread = `${median(scoring).toFixed(2)} s (${range})`;
  const process = `${median(readings.map((r) => r.processSeconds)).toFixed(2)} s`;
  const peak = `${median(readings.map((r) => r.peakRssMb)).toFixed(0)} MB`;
  console.log(`| ${name} | ${Math.round(rate).toLocaleString("en")} | ${spread} | ${process} | ${peak} |`);
}
console.log(`\nThe two forests name the same class for ${(same * 100).toFixed(1)} % of the rows.`);
