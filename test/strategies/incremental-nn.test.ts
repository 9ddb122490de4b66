import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { seededRandom } from "../../plugins/strategies/shared/random.ts";
import { readModelDescription } from "../../runtime/inference/model-metadata.ts";
import { repoRoot, runCli, tempDir } from "../helpers.ts";

/** y = w·x + noise over 6 features; `drift` moves both the inputs and the weights, as markets do. */
function writeRows(file: string, rows: number, seed: number, drift: number) {
  const random = seededRandom(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const weights = [1.5, -2, 0.5, 3, -1, 0.8].map((w, i) => w + drift * (i % 2 ? 1 : -1));
  const lines = ["t,f0,f1,f2,f3,f4,f5,label"];
  for (let r = 0; r < rows; r++) {
    const x = weights.map(() => gaussian() + drift);
    const y =
      x.reduce((sum, value, i) => sum + value * weights[i]!, 0) + 0.3 * Math.tanh(x[0]! * x[1]!) + 0.1 * gaussian();
    lines.push(`${r},${x.map((v) => v.toFixed(5)).join(",")},${y.toFixed(5)}`);
  }
  return Bun.write(file, `${lines.join("\n")}\n`);
}

async function fit(args: string[], home: string) {
  const run = await runCli(["fit", "--strategy", "incremental-nn", "--json", ...args], { home });
  if (run.code !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout.trim()) as Record<string, number>;
}

describe("incremental-nn", () => {
  test("a warm start beats a cold start of equal epochs on drifted data", async () => {
    await using dir = tempDir();
    const p = (name: string) => join(dir.path, name);
    await writeRows(p("old.csv"), 4000, 1, 0);
    await writeRows(p("new.csv"), 600, 2, 0.3);
    await writeRows(p("new-test.csv"), 2000, 3, 0.3);
    const common = ["--task", "regression", "--set", "layers=[16]", "--set", "learning_rate=0.01"];
    await fit([...common, "--data", p("old.csv"), "--set", "epochs=40", "--out", p("weekly.onnx")], dir.path);
    const warm = await fit(
      [
        ...common,
        "--data",
        p("new.csv"),
        "--test",
        p("new-test.csv"),
        "--set",
        "epochs=3",
        "--set",
        "warm_start=true",
        "--from",
        p("weekly.onnx"),
        "--out",
        p("warm.onnx"),
      ],
      dir.path,
    );
    const cold = await fit(
      [...common, "--data", p("new.csv"), "--test", p("new-test.csv"), "--set", "epochs=3", "--out", p("cold.onnx")],
      dir.path,
    );
    expect(warm.rmse!).toBeLessThan(cold.rmse! * 0.8);
    const described = readModelDescription(
      new Uint8Array(await Bun.file(p("warm.onnx")).arrayBuffer()),
      "warm.onnx",
    ) as unknown as { warm_started: boolean };
    expect(described.warm_started).toBe(true);
  }, 60_000);

  test("a warm start from a damaged active version starts cold instead of failing the run that would replace " +
    "it", async () => {
    await using dir = tempDir();
    const p = (name: string) => join(dir.path, name);
    await writeRows(p("rows.csv"), 600, 1, 0);
    const common = ["--task", "regression", "--set", "layers=[8]", "--set", "epochs=2", "--data", p("rows.csv")];
    await fit([...common, "--out", p("active.onnx")], dir.path);
    await Bun.write(p("cut.onnx"), (await Bun.file(p("active.onnx")).bytes()).subarray(0, 300));
    const run = await runCli(
      [
        "fit",
        "--strategy",
        "incremental-nn",
        "--json",
        ...common,
        "--set",
        "warm_start=true",
        "--from",
        p("cut.onnx"),
        "--out",
        p("next.onnx"),
      ],
      { home: dir.path },
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`warm_start: the active version's file ${p("cut.onnx")} cannot be read`);
    const described = readModelDescription(await Bun.file(p("next.onnx")).bytes(), "next.onnx") as unknown as {
      warm_started: boolean;
    };
    expect(described.warm_started).toBe(false);
  }, 60_000);

  test("ONNX Runtime reproduces the network (standardisation inside the graph), and the checker accepts " +
    "it", async () => {
    await using dir = tempDir();
    const model = join(dir.path, "m.onnx");
    const train = join(repoRoot, "test/fixtures/real/wine-train.csv");
    const testFile = join(repoRoot, "test/fixtures/real/wine-test.csv");
    const ours = await fit(["--data", train, "--test", testFile, "--set", "epochs=30", "--out", model], dir.path);
    expect(ours.accuracy).toBeGreaterThan(0.85);
    const predicted = await runCli(["predict", "--model", model, "--data", testFile, "--json"], { home: dir.path });
    expect((JSON.parse(predicted.stdout) as { accuracy: number }).accuracy).toBeCloseTo(ours.accuracy!, 6);
    const python = "/usr/bin/python3";
    if (existsSync(python) && Bun.spawnSync([python, "-c", "import onnx"]).exitCode === 0) {
      const check = Bun.spawnSync([
        python,
        "-c",
        "import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True); print('ok')",
        model,
      ]);
      expect(check.stdout.toString().trim()).toBe("ok");
    }
    // Raw features in, the same outputs as the graph's inputs standardised by hand would give.
    const session = await ort.InferenceSession.create(model);
    expect(session.inputNames).toEqual(["features"]);
    expect([...session.outputNames].sort()).toEqual(["label", "probabilities"]);
  }, 60_000);

  test("the same seed trains the same weights", async () => {
    await using dir = tempDir();
    const data = join(repoRoot, "test/fixtures/real/iris-train.csv");
    await fit(["--data", data, "--set", "epochs=5", "--out", join(dir.path, "a.onnx")], dir.path);
    await fit(["--data", data, "--set", "epochs=5", "--out", join(dir.path, "b.onnx")], dir.path);
    const a = Buffer.from(await Bun.file(join(dir.path, "a.onnx")).arrayBuffer());
    const b = Buffer.from(await Bun.file(join(dir.path, "b.onnx")).arrayBuffer());
    expect(a.equals(b)).toBe(true);
  });
});
