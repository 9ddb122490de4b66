import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { binColumns, computeBinning } from "../../plugins/strategies/random-forest/binning.ts";
import { predictForest, trainForest } from "../../plugins/strategies/random-forest/forest.ts";
import { ForestOutputs } from "../../plugins/strategies/random-forest/forest-outputs.ts";
import { forestToOnnx } from "../../plugins/strategies/random-forest/onnx-export.ts";
import { classNames, encodeClasses, encodeTargets } from "../../plugins/strategies/shared/labels.ts";
import { argmaxRows } from "../../plugins/strategies/shared/metrics.ts";
import { seededRandom } from "../../plugins/strategies/shared/random.ts";
import { readCsvTable } from "../../runtime/data/csv-table.ts";
import { ThreadAllowance } from "../../runtime/training/thread-allowance.ts";
import { repoRoot, runCli, tempDir } from "../helpers.ts";

const real = (name: string) => join(repoRoot, "test/fixtures/real", name);
const systemPython = "/usr/bin/python3";
const sklearnPeer = join(repoRoot, "../shared/bench/sklearn_rf.py");
const hasModule = (module: string) =>
  existsSync(systemPython) && Bun.spawnSync([systemPython, "-c", `import ${module}`]).exitCode === 0;
const hasSklearn = hasModule("sklearn") && existsSync(sklearnPeer);
const hasOnnxChecker = hasModule("onnx");
if (!hasSklearn)
  console.warn(
    "skipping scikit-learn comparisons: python3-sklearn or ../shared/bench/sklearn_rf.py missing (.ci/run installs it)",
  );
if (!hasOnnxChecker) console.warn("skipping onnx.checker: python3-onnx missing (.ci/run installs it)");

async function loadSet(name: string) {
  const train = await readCsvTable([real(`${name}-train.csv`)], { label: "label", onBadCell: "fail" });
  const test = await readCsvTable([real(`${name}-test.csv`)], {
    label: "label",
    onBadCell: "fail",
    features: train.featureNames,
  });
  return { train, test, features: train.featureNames.length };
}

const forestOptions = { trees: 50, maxDepth: 8, minSamplesSplit: 2, minSamplesLeaf: 1, bootstrap: true, seed: 3 };

async function fitJson(args: string[], home: string) {
  const run = await runCli(["fit", "--json", ...args], { home });
  if (run.code !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout.trim().split("\n").at(-1)!) as Record<string, number>;
}

function sklearn(name: string, task: string, extra: string[] = []) {
  const run = Bun.spawnSync([
    systemPython,
    sklearnPeer,
    "--train",
    real(`${name}-train.csv`),
    "--test",
    real(`${name}-test.csv`),
    "--task",
    task,
    "--n-estimators",
    "100",
    "--max-depth",
    "8",
    "--min-samples-split",
    "2",
    "--min-samples-leaf",
    "1",
    "--n-jobs",
    "1",
    ...extra,
  ]);
  return JSON.parse(run.stdout.toString()) as Record<string, number>;
}

describe("random forest", () => {
  test(
    "the same seed gives the same model, with 1 worker or 2, and with 2 of which only 1 may train for a " + "while",
    async () => {
      const { train, features } = await loadSet("wine");
      const classes = classNames(train.labels);
      const table = {
        x: train.x,
        rows: train.labels.length,
        features,
        y: encodeClasses({ ...train, rows: train.labels.length }, classes),
        task: "classification" as const,
        classCount: classes.length,
      };
      const options = { ...forestOptions, maxFeatures: 3 };
      const one = forestToOnnx(await trainForest(table, { ...options, jobs: 1 }), {});
      const two = forestToOnnx(await trainForest(table, { ...options, jobs: 2 }), {});
      const again = forestToOnnx(await trainForest(table, { ...options, jobs: 2 }), {});
      expect(Buffer.from(two).equals(Buffer.from(one))).toBe(true);
      expect(Buffer.from(again).equals(Buffer.from(one))).toBe(true);
      const other = forestToOnnx(await trainForest(table, { ...options, seed: 4, jobs: 1 }), {});
      expect(Buffer.from(other).equals(Buffer.from(one))).toBe(false);

      // Fewer threads allowed (the governor leaving a core to serving): the held-back worker takes no tree
      // until it may, and the model is the same.
      const narrowed = new ThreadAllowance();
      narrowed.set(1);
      const took = [0, 0];
      const between = (threads: ThreadAllowance) => async (worker: number) => {
        await threads.whileHeldBack(worker);
        took[worker]!++;
      };
      const alone = forestToOnnx(await trainForest(table, { ...options, jobs: 2 }, { between: between(narrowed) }), {});
      expect(took).toEqual([options.trees, 0]);
      expect(Buffer.from(alone).equals(Buffer.from(one))).toBe(true);
      const widened = new ThreadAllowance();
      widened.set(1);
      took.fill(0);
      const joined = forestToOnnx(
        await trainForest(
          table,
          { ...options, jobs: 2 },
          { between: between(widened), onTree: (done) => done === 10 && widened.set(undefined) },
        ),
        {},
      );
      expect(took[1]).toBeGreaterThan(0);
      expect(Buffer.from(joined).equals(Buffer.from(one))).toBe(true);
    },
  );

  test(
    "the same seed gives the same bytes with 1, 2 or 3 workers: regression, and classes with every feature " + "tried",
    async () => {
      // Enough rows for deep trees, whose children's histograms are derived by subtraction.
      const random = seededRandom(5);
      const rows = 6000;
      const features = 6;
      const x = new Float32Array(rows * features).map(() => random() * 4 - 2);
      const target = new Float32Array(rows).map(
        (_, i) => Math.sin(x[i * features]!) * 3 + x[i * features + 1]! * x[i * features + 2]! + random(),
      );
      const classes = target.map((t) => Math.min(3, Math.max(0, Math.floor(t + 2))));
      const tables = [
        { x, rows, features, y: target, task: "regression" as const, classCount: 0 },
        { x, rows, features, y: Uint8Array.from(classes), task: "classification" as const, classCount: 4 },
      ];
      for (const table of tables) {
        const options = { ...forestOptions, trees: 12, maxDepth: 10, maxFeatures: features };
        const [one, two, three] = await Promise.all(
          [1, 2, 3].map(async (jobs) => Buffer.from(forestToOnnx(await trainForest(table, { ...options, jobs }), {}))),
        );
        expect(two!.equals(one!)).toBe(true);
        expect(three!.equals(one!)).toBe(true);
      }
    },
  );

  test("held-out outputs added as trees arrive, in any order, equal predictForest's bit for bit", async () => {
    const { train, test, features } = await loadSet("diabetes");
    const rows = train.labels.length;
    const forest = await trainForest(
      { x: train.x, rows, features, y: encodeTargets({ ...train, rows }, "train"), task: "regression", classCount: 0 },
      { ...forestOptions, trees: 20, maxFeatures: features, jobs: 1 },
    );
    const testRows = test.labels.length;
    const outputs = new ForestOutputs(test.x, testRows, features, 1, forest.trees.length);
    const order = forest.trees.map((_, index) => index).reverse();
    [order[3], order[11]] = [order[11]!, order[3]!];
    for (const index of order) outputs.add(index, forest.trees[index]!);
    expect(
      Buffer.from(outputs.result().buffer).equals(Buffer.from(predictForest(forest, test.x, testRows).buffer)),
    ).toBe(true);
    expect(() => new ForestOutputs(test.x, testRows, features, 1, 2).result()).toThrow("0 of 2 trees added");
  });

  for (const [name, task] of [
    ["breast-cancer", "classification"],
    ["diabetes", "regression"],
  ] as const) {
    const agrees = `ONNX Runtime agrees with the strategy on every ${name} test row`;
    test(`${agrees}, and onnx.checker accepts the model`, async () => {
      await using dir = tempDir();
      const { train, test, features } = await loadSet(name);
      const rows = train.labels.length;
      const classes = task === "classification" ? classNames(train.labels) : [];
      const trainTable = { ...train, rows };
      const forest = await trainForest(
        {
          x: train.x,
          rows,
          features,
          y: task === "classification" ? encodeClasses(trainTable, classes) : encodeTargets(trainTable, "train"),
          task,
          classCount: classes.length,
        },
        { ...forestOptions, maxFeatures: task === "classification" ? 5 : features, jobs: 2 },
      );
      const bytes = forestToOnnx(forest, { edgetrain: "{}" });
      const session = await ort.InferenceSession.create(bytes);
      const testRows = test.labels.length;
      const outputs = await session.run({ features: new ort.Tensor("float32", test.x, [testRows, features]) });
      const ours = predictForest(forest, test.x, testRows);
      if (task === "classification") {
        const labels = argmaxRows(ours, testRows, classes.length);
        const onnxLabels = Array.from(outputs.label!.data as BigInt64Array, Number);
        const agree = onnxLabels.filter((label, i) => label === labels[i]).length / testRows;
        expect(agree).toBeGreaterThanOrEqual(0.999);
        const probabilities = outputs.probabilities!.data as Float32Array;
        for (let i = 0; i < ours.length; i++) expect(Math.abs(probabilities[i]! - ours[i]!)).toBeLessThan(1e-5);
      } else {
        const values = outputs.variable!.data as Float32Array;
        for (let i = 0; i < testRows; i++)
          expect(Math.abs(values[i]! - ours[i]!)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(ours[i]!)));
      }
      if (hasOnnxChecker) {
        const file = join(dir.path, "model.onnx");
        await Bun.write(file, bytes);
        const check = Bun.spawnSync([
          systemPython,
          "-c",
          "import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True); print('ok')",
          file,
        ]);
        expect(check.stderr.toString()).toBe("");
        expect(check.stdout.toString().trim()).toBe("ok");
      }
    });
  }

  test("on real datasets it holds its own against scikit-learn: accuracy within 2 points, RMSE within 5 " +
    "%", async () => {
    await using dir = tempDir();
    const common = ["--set", "n_estimators=100", "--set", "max_depth=8", "--set", "n_jobs=2"];
    for (const name of ["iris", "wine", "breast-cancer"]) {
      const ours = await fitJson(
        [
          "--strategy",
          "random-forest",
          "--data",
          real(`${name}-train.csv`),
          "--test",
          real(`${name}-test.csv`),
          "--out",
          join(dir.path, `${name}.onnx`),
          ...common,
        ],
        dir.path,
      );
      expect(ours.accuracy).toBeGreaterThan(0.85);
      if (hasSklearn) expect(ours.accuracy!).toBeGreaterThanOrEqual(sklearn(name, "classification").accuracy! - 0.02);
    }
    const ours = await fitJson(
      [
        "--strategy",
        "random-forest",
        "--task",
        "regression",
        "--data",
        real("diabetes-train.csv"),
        "--test",
        real("diabetes-test.csv"),
        "--out",
        join(dir.path, "d.onnx"),
        ...common,
      ],
      dir.path,
    );
    expect(ours.r2).toBeGreaterThan(0.2);
    if (hasSklearn) expect(ours.rmse!).toBeLessThanOrEqual(sklearn("diabetes", "regression").rmse! * 1.05);
  }, 120_000);

  test("accuracy on generated wearable sessions stays above a floor and near scikit-learn", async () => {
    await using dir = tempDir();
    const generator = join(repoRoot, "../shared/tools/make_athletes.py");
    if (!hasModule("numpy") || !existsSync(generator))
      return console.warn("skipping: python3-numpy or make_athletes.py missing");
    Bun.spawnSync([
      systemPython,
      generator,
      "--out",
      dir.path,
      "--single",
      "train.csv",
      "--rows",
      "20000",
      "--seed",
      "11",
    ]);
    Bun.spawnSync([
      systemPython,
      generator,
      "--out",
      dir.path,
      "--single",
      "test.csv",
      "--rows",
      "5000",
      "--seed",
      "12",
    ]);
    const args = [
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
    const ours = await fitJson(
      [
        "--strategy",
        "random-forest",
        "--data",
        join(dir.path, "train.csv"),
        "--test",
        join(dir.path, "test.csv"),
        "--out",
        join(dir.path, "m.onnx"),
        ...args,
      ],
      dir.path,
    );
    expect(ours.accuracy).toBeGreaterThan(0.7);
    if (hasSklearn) {
      const peer = Bun.spawnSync([
        systemPython,
        sklearnPeer,
        "--train",
        join(dir.path, "train.csv"),
        "--test",
        join(dir.path, "test.csv"),
        "--n-jobs",
        "2",
      ]);
      expect(ours.accuracy!).toBeGreaterThanOrEqual(
        (JSON.parse(peer.stdout.toString()) as { accuracy: number }).accuracy - 0.02,
      );
    }
    const predicted = await runCli(
      ["predict", "--model", join(dir.path, "m.onnx"), "--data", join(dir.path, "test.csv"), "--json"],
      { home: dir.path },
    );
    const report = JSON.parse(predicted.stdout) as { accuracy: number; predictions: string[]; backend: string };
    expect(report.accuracy).toBeCloseTo(ours.accuracy!, 6);
    expect(report.predictions).toHaveLength(5000);
    expect(new Set(report.predictions)).toEqual(new Set(["rest", "walk", "jog", "run", "sprint"]));
  }, 180_000);
});

describe("binning", () => {
  test("each value lands in the bin a search over all the edges gives: ±0, NaN, infinities, narrow ranges", () => {
    const searched = (edges: Float32Array, value: number) => {
      let low = 0;
      let high = edges.length;
      while (low < high) {
        const mid = (low + high) >>> 1;
        if (edges[mid]! < value) low = mid + 1;
        else high = mid;
      }
      return low;
    };
    const special = [0, -0, NaN, Infinity, -Infinity, 1e-45, -1e-45, 1.1754942e-38, 3.4e38, -3.4e38, 1, -1, 33.5];
    const rows = 3000;
    // Whole numbers (fewer distinct values than bins), a range narrow against its magnitude (many edges
    // share their first bits), and values over ten orders of magnitude.
    const kinds = [
      (i: number) => (i % 21) - 10,
      (i: number) => 33 + ((i * 7919) % 2000) / 1000,
      (i: number) => Math.sin(i) * 10 ** ((i % 10) - 5),
    ];
    const x = new Float32Array(rows * kinds.length);
    for (let i = 0; i < rows; i++)
      kinds.forEach((kind, j) => (x[i * kinds.length + j] = i % 17 === 0 ? special[i % special.length]! : kind(i)));
    const binning = computeBinning(x, rows, kinds.length);
    const { bins, binMin, binMax } = binColumns(x, rows, kinds.length, binning);
    for (let j = 0; j < kinds.length; j++) {
      for (let i = 0; i < rows; i++) {
        const value = x[i * kinds.length + j]!;
        const bin = bins[j * rows + i]!;
        expect(bin).toBe(searched(binning.edges[j]!, value));
        if (value === value) expect(binMin[j]![bin]! <= value && value <= binMax[j]![bin]!).toBe(true);
      }
    }
  });
});

describe("edgetrain fit, bad input", () => {
  test("each gives exit 1 and a one-line cause naming the file, column or option", async () => {
    await using dir = tempDir();
    const good = dir.write("good.csv", "a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n");
    const cases: Array<[string[], string]> = [
      [["--strategy", "random-forest", "--data", good, "--label", "target"], `${good} line 1: no column "target"`],
      [["--strategy", "random-forest", "--data", dir.write("empty.csv", "")], "empty.csv is empty: no header row"],
      [
        ["--strategy", "random-frest", "--data", good],
        'unknown strategy "random-frest" (did you mean "random-forest"?)',
      ],
      [
        ["--strategy", "random-forest", "--data", good, "--set", "max_depth=deep"],
        '--set max_depth: expected number, got "deep"',
      ],
      [
        ["--strategy", "random-forest", "--data", good, "--set", "trees=5"],
        '--set trees: random-forest has no option "trees"',
      ],
      [
        ["--strategy", "random-forest", "--data", dir.write("bad.csv", "a,b,label\n1,2,x\n3,,y\n")],
        "bad.csv line 3: column b is empty",
      ],
    ];
    for (const [args, cause] of cases) {
      const run = await runCli(["fit", ...args, "--out", join(dir.path, "m.onnx")], { home: dir.path });
      expect({ args, code: run.code }).toEqual({ args, code: 1 });
      expect(run.stderr.split("\n")[0]).toContain(cause);
    }
    expect(existsSync(join(dir.path, "m.onnx"))).toBe(false);
  });

  test("a run over governor.memory_limit_mb is stopped with a clear message and writes no model", async () => {
    await using dir = tempDir();
    const profile = dir.write("tiny.yaml", "governor:\n  memory_limit_mb: 1\n");
    const run = await runCli(
      [
        "fit",
        "--strategy",
        "random-forest",
        "--data",
        real("wine-train.csv"),
        "--profile",
        profile,
        "--out",
        join(dir.path, "m.onnx"),
      ],
      { home: dir.path },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/run stopped: it uses \d+ MB, over governor.memory_limit_mb 1 MB/);
    expect(existsSync(join(dir.path, "m.onnx"))).toBe(false);
    expect(readFileSync(real("wine-train.csv")).length).toBeGreaterThan(0);
  });
});
