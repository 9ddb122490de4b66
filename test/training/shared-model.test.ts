import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { seededRandom } from "../../plugins/strategies/shared/random.ts";
import { modelNameOf, trainsModel } from "../../runtime/store/model-name.ts";
import { runCli, tempDir } from "../helpers.ts";

const TOLERANCE = 0.02;
const NETWORK = "{ task: classification, layers: [16], activation: tanh, seed: 1, batch_size: 32";

/** Two jobs writing one model per symbol: a weekly full retrain and a 6-hourly incremental update. */
const PROFILE = `extends: base
jobs:
  full:
    strategy: incremental-nn
    model: btc-{key}
    data: { source: rows, path: btc, key_column: symbol, timestamp: t }
    options: ${NETWORK}, epochs: 40, learning_rate: 0.01 }
    deploy: [{ type: gate, tolerance: ${TOLERANCE} }, activate]
  incremental:
    strategy: incremental-nn
    model: btc-{key}
    data: { source: rows, path: btc, key_column: symbol, timestamp: t, last: 6h }
    options: ${NETWORK}, epochs: 4, learning_rate: 0.005, warm_start: true }
    deploy: [{ type: gate, tolerance: ${TOLERANCE} }, activate]
`;

/**
 * Rows whose class is which side of a tilted plane x falls on; `drift` moves the inputs and tilts the plane,
 * as a market's regime changes. Times: `at` seconds since the epoch, one row a second before it.
 */
function rows(count: number, seed: number, drift: number, at: number): string {
  const random = seededRandom(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const weights = [1.2, -0.8, 0.6, 1].map((w, i) => w + drift * (i % 2 ? 0.5 : -0.5));
  const lines: string[] = [];
  for (let r = 0; r < count; r++) {
    const x = weights.map(() => gaussian() + drift);
    const score = x.reduce((sum, value, i) => sum + value * weights[i]!, 0) + 0.4 * Math.sin(2 * x[0]!) - drift;
    lines.push(`${at - count + r},usd,${x.map((v) => v.toFixed(4)).join(",")},${score > 0 ? "up" : "down"}`);
  }
  return `${lines.join("\n")}\n`;
}

const HEADER = "t,symbol,f0,f1,f2,f3,label\n";

async function accuracy(file: string, csv: string): Promise<number> {
  const session = await ort.InferenceSession.create(file);
  try {
    const lines = csv
      .trim()
      .split("\n")
      .map((line) => line.split(","));
    const x = Float32Array.from(lines.flatMap((cells) => cells.slice(2, 6).map(Number)));
    const { label } = await session.run({ features: new ort.Tensor("float32", x, [lines.length, 4]) });
    const classes = ["down", "up"];
    const right = Array.from(label!.data as BigInt64Array).filter(
      (index, row) => classes[Number(index)] === lines[row]![6],
    );
    return right.length / lines.length;
  } finally {
    await session.release();
  }
}

interface Version {
  version: number;
  status: string;
  job: string;
  parent?: number;
  warm_started?: boolean;
  path: string;
  gate?: { passed: boolean; candidate: number; active?: number };
}

describe("one model, several jobs", () => {
  // Each warm start continues from the version before it, and keeps the full model's accuracy on drifted data.
  test("full → incremental → incremental → full on one model", async () => {
    await using dir = tempDir();
    const home = join(dir.path, "home");
    const profile = dir.write("profile.yaml", PROFILE);
    const cli = (args: string[]) => runCli([...args, "--home", home, "--profile", profile], { home: dir.path });
    const train = async (job: string) => {
      const run = await cli(["train", job, "--force", "--json"]);
      // --force says loudly what it ignores; nothing else may reach stderr.
      const unexpected = run.stderr.split("\n").filter((line) => line && !line.includes("WARN  IGNORING "));
      expect({ job, code: run.code, stderr: unexpected }).toEqual({ job, code: 0, stderr: [] });
    };
    const versions = async () =>
      (JSON.parse((await cli(["model", "btc-usd", "--json"])).stdout) as { versions: Version[] }).versions.toReversed();
    const now = Math.floor(Date.now() / 1000);
    const drifted = rows(3000, 99, 0.5, now - 7200);

    dir.write("home/data/btc/history.csv", HEADER + rows(4000, 1, 0, now - 30 * 86_400));
    await train("full");
    dir.write("home/data/btc/batch-1.csv", HEADER + rows(500, 2, 0.4, now - 3000));
    await train("incremental");
    dir.write("home/data/btc/batch-2.csv", HEADER + rows(500, 3, 0.5, now - 60));
    await train("incremental");
    await train("full");

    const made = await versions();
    expect(
      made.map(({ version, job, parent, warm_started, status }) => ({ version, job, parent, warm_started, status })),
    ).toEqual([
      { version: 1, job: "full", parent: undefined, warm_started: false, status: "retired" },
      { version: 2, job: "incremental", parent: 1, warm_started: true, status: "retired" },
      { version: 3, job: "incremental", parent: 2, warm_started: true, status: "retired" },
      { version: 4, job: "full", parent: 3, warm_started: false, status: "active" },
    ]);
    for (const version of made.slice(1)) expect(version.gate?.passed).toBe(true);
    // Scored on drifted rows none of them trained on: the updates keep what the full model knew.
    const scores = await Promise.all(made.map((version) => accuracy(version.path, drifted)));
    expect(scores[1]!).toBeGreaterThanOrEqual(scores[0]! - TOLERANCE);
    expect(scores[2]!).toBeGreaterThanOrEqual(scores[0]! - TOLERANCE);

    const models = JSON.parse((await cli(["models", "--json"])).stdout) as Array<{ model: string; job: string }>;
    expect(models.map((m) => [m.model, m.job])).toEqual([["btc-usd", "full"]]);
    const table = (await cli(["model", "btc-usd"])).stdout.split("\n");
    expect(table[0]).toMatch(/^VERSION\s+STATUS\s+CREATED\s+JOB\s+RUN\s+PARENT\s+METRICS/);
    expect(table.slice(1, 5).map((line) => line.split(/\s{2,}/).filter((_cell, i) => [0, 3, 5].includes(i)))).toEqual([
      ["4", "full", "3"],
      ["3", "incremental", "2 warm"],
      ["2", "incremental", "1 warm"],
      ["1", "full", "-"],
    ]);
  }, 180_000);

  test("a job's model names one model per key: {key} where the job has keys, and only {key} and {job}", async () => {
    await using dir = tempDir();
    const job = (model: string, keyed: boolean) =>
      `    strategy: incremental-nn\n    model: "${model}"\n` +
      `    data: { source: rows, path: btc${keyed ? ", key_column: symbol" : ""} }\n`;
    const profile = dir.write(
      "profile.yaml",
      `extends: base\njobs:\n  one:\n${job("btc", true)}  two:\n${job("btc-{symbol}", true)}` +
        `  three:\n${job("{job}-{key}", false)}`,
    );
    const checked = await runCli(["validate", profile, "--json"], { home: dir.path });
    expect(checked.code).toBe(1);
    const problems = (JSON.parse(checked.stdout) as { problems: Array<{ path: string; message: string }> }).problems;
    expect(problems.map((p) => [p.path, p.message])).toEqual([
      [
        "jobs.one.model",
        "the job has a model per key: put {key} in the name (btc-{key}), or every key writes the same model",
      ],
      ["jobs.two.model", "{symbol} is not a placeholder: a model name takes {key} and {job}"],
      ["jobs.three.model", "the job has no keys to fill {key} with"],
    ]);
  }, 30_000);

  test("the model a run writes, and the runs that write a model, by the job's template or by JOB-KEY", () => {
    expect([
      modelNameOf("full", "USD", "btc-{key}"),
      modelNameOf("full", "player 7"),
      modelNameOf("daily", undefined),
    ]).toEqual(["btc-usd", "full-player-7", "daily"]);
    const cases: Array<[string | undefined, string | undefined, string, boolean]> = [
      ["btc-{key}", "usd", "btc-usd", true],
      ["btc-{key}", undefined, "btc-eur", true],
      ["btc-{key}", undefined, "eth-eur", false],
      ["{key}-{job}", undefined, "usd-full", true],
      [undefined, undefined, "full-usd", true],
      [undefined, "usd", "btc-usd", false],
      ["btc", undefined, "btc", true],
    ];
    expect(cases.map(([template, key, model]) => trainsModel("full", template, key, model))).toEqual(
      cases.map((c) => c[3]),
    );
  });
});
