/**
 * Resident memory of a loaded model (an ONNX Runtime session, or the built-in tree ensemble) against its model file,
 * run by hand:
 * `bun scripts/bench/session-memory.ts`. Trains random forests of three sizes on the demo's player data
 * (`edgetrain fit`), then, in a fresh process per model and backend, keeps SESSIONS sessions of it loaded
 * in a SessionPool, each having answered one row, and divides the growth of the process's RSS by their
 * count. Prints a Markdown table for docs/performance.md, with the estimate the pool budgets with
 * (`sessionBytes` for a session, the arrays' size for the built-in trees) beside each measure.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { writeAthletes } from "../../runtime/demo/athletes.ts";
import { loadOnnxRuntime } from "../../runtime/inference/onnx-runtime.ts";
import { SessionPool } from "../../runtime/inference/session-pool.ts";
import { silentLogger } from "../../runtime/log/logger.ts";

const SESSIONS = 40;
const root = resolve(import.meta.dir, "../..");
const work = join(root, ".bench-session-memory");

const rss = () => {
  Bun.gc(true);
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))![1]) * 1024;
};

type Backend = "native" | "wasm" | "builtin";

/**
 * In the child: RSS per loaded model of `file` on `backend`, past a first one that loads the runtime itself,
 * and the pool's estimate of each.
 */
async function measure(file: string, backend: Backend): Promise<{ measured: number; budgeted: number }> {
  const pool = new SessionPool({
    runtime: () =>
      loadOnnxRuntime({ preference: backend === "wasm" ? "wasm" : "native", cacheDir: join(work, "cache") }),
    treeEnsembles: backend === "builtin" ? "builtin" : "onnxruntime",
    memoryBudgetMb: 1_000_000,
    accelerator: "cpu",
    maxBatchRows: 64,
    logger: silentLogger,
  });
  const row = new Float32Array(16).fill(1);
  const ask = async (model: string) => pool.run(await pool.acquire(model, 1, file), row, 1);
  await ask("warm-up");
  const before = rss();
  for (let i = 0; i < SESSIONS; i++) await ask(`m${i}`);
  await Bun.sleep(200);
  const measured = (rss() - before) / SESSIONS;
  return { measured, budgeted: pool.loaded().find((slot) => slot.model === "m0")!.bytes };
}

if (Bun.argv[2] === "--measure") {
  console.log(JSON.stringify(await measure(Bun.argv[3]!, Bun.argv[4] as Backend)));
  process.exit(0);
}

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
writeAthletes(join(work, "athletes"), { players: 1, sessions: 4, rows: 900, seed: 7 });
const sessions = readdirSync(join(work, "athletes/player_1"))
  .sort()
  .map((name) => join(work, "athletes/player_1", name));
const forests = [
  { trees: 15, depth: 6 },
  { trees: 40, depth: 8, note: "the demo's" },
  { trees: 200, depth: 12 },
];
const rows: string[] = [];
const mb = (bytes: number) => (bytes / 1_048_576).toFixed(2);
for (const { trees, depth, note } of forests) {
  const file = join(work, `forest-${trees}x${depth}.onnx`);
  const fit = Bun.spawnSync(
    [
      process.execPath,
      join(root, "runtime/cli/main.ts"),
      "fit",
      "--strategy",
      "random-forest",
      ...sessions.slice(0, 3).flatMap((s) => ["--data", s]),
      "--set",
      `n_estimators=${trees}`,
      "--set",
      `max_depth=${depth}`,
      "--set",
      "seed=1",
      "--out",
      file,
      "--json",
    ],
    { cwd: work },
  );
  if (fit.exitCode !== 0) throw new Error(`edgetrain fit failed: ${fit.stderr.toString()}`);
  const size = statSync(file).size;
  for (const backend of ["native", "wasm", "builtin"] as const) {
    const child = Bun.spawnSync([process.execPath, import.meta.path, "--measure", file, backend]);
    const { measured: perSession, budgeted: estimate } = JSON.parse(child.stdout.toString()) as {
      measured: number;
      budgeted: number;
    };
    rows.push(
      `| ${trees} trees, depth ${depth}${note ? ` (${note})` : ""} | ${(size / 1024).toFixed(0)} KB | ${backend} | ` +
        `${mb(perSession)} MB (${(perSession / size).toFixed(1)}× the file) | ${mb(estimate)} MB ` +
        `(${(estimate / perSession).toFixed(2)}× the measure) |`,
    );
    console.error(rows.at(-1));
  }
}
const machine = `${cpus().length}× ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB`;
console.log(
  `Command: \`bun scripts/bench/session-memory.ts\` — machine: ${machine} — date: ` +
    `${new Date().toISOString().slice(0, 10)}\n`,
);
console.log(`| Forest | Model file | Backend | RSS per model (${SESSIONS} loaded) | Budgeted |\n|---|---|---|---|---|`);
for (const row of rows) console.log(row);
rmSync(work, { recursive: true, force: true });
