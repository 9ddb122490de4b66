import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { onnx } from "onnx-proto";
import { runCli, startDaemonProcess, type TempDir, tempDir } from "../helpers.ts";
import { closeTo, type ForeignModel, foreignModel } from "../serving/foreign-models.ts";

const torch = foreignModel("torch");
const twoInput = foreignModel("two-input");
const zipmap = foreignModel("zipmap");
const missing = [torch, twoInput, zipmap].find((made): made is string => typeof made === "string");

let dir: TempDir;
let home: string;
beforeAll(() => {
  dir = tempDir();
  home = join(dir.path, "home");
});
afterAll(async () => {
  await dir[Symbol.asyncDispose]();
});

const cli = (args: string[]) => runCli([...args, "--home", home], { home: dir.path });

/** The two-input model changed with onnx-proto into what the import must refuse. */
function broken(change: (model: onnx.ModelProto) => void): string {
  const model = onnx.ModelProto.decode(readFileSync((twoInput as ForeignModel).model));
  change(model);
  const file = join(dir.path, `broken-${Math.random().toString(36).slice(2)}.onnx`);
  writeFileSync(file, onnx.ModelProto.encode(model).finish());
  return file;
}

describe.skipIf(missing !== undefined)(
  `edgetrain models add, then /v1 and /v2${missing ? ` (skipped: ${missing})` : ""}`,
  () => {
    test("a file that is not ONNX, cut short, with an operator or opset the runtime lacks, or failing its health " +
      "rows is refused with the reason, nothing stored", async () => {
      const torchModel = torch as ForeignModel;
      const text = join(dir.path, "notes.onnx");
      writeFileSync(text, "these are my notes, not a model\n");
      const half = join(dir.path, "half.onnx");
      const bytes = readFileSync(torchModel.model);
      writeFileSync(half, bytes.subarray(0, Math.floor(bytes.length / 2)));
      const unknownOperator = broken((model) => void (model.graph!.node![0]!.opType = "NoSuchOperator"));
      const futureOpset = broken((model) => void (model.opsetImport![0]!.version = 99));
      // log(0) is -inf: the row of zeros the import runs answers with it.
      const infinite = broken((model) => {
        const graph = model.graph!;
        graph.node = [onnx.NodeProto.create({ opType: "Log", input: ["a"], output: ["s"] })];
        graph.input = graph.input!.filter((input) => input.name === "a");
        graph.output = graph.output!.filter((output) => output.name === "s");
        graph.initializer = [];
      });
      const cases: Array<[string, string, string]> = [
        [text, "notes.onnx is not an ONNX model", "not ONNX"],
        [half, "half.onnx is not an ONNX model, or is cut short", "truncated"],
        [unknownOperator, "does not load in ONNX Runtime", "unknown operator"],
        [futureOpset, "does not load in ONNX Runtime", "opset 99"],
        [infinite, "fails its health rows: output s holds -Infinity", "health rows"],
      ];
      for (const [file, message, what] of cases) {
        const { code, stderr } = await cli(["models", "add", "refused", file, "--activate"]);
        expect({ what, code, stderr: stderr.includes(message) ? message : stderr }).toEqual({
          what,
          code: 1,
          stderr: message,
        });
        expect(stderr).toContain("model refused unchanged");
      }
      const misnamed = await cli(["models", "add", "refused", torchModel.model, "--features", "a,b,c"]);
      expect(misnamed.code).toBe(1);
      expect(misnamed.stderr).toContain("takes 4 features, but 3 are named");
      expect(JSON.parse((await cli(["models", "--json"])).stdout)).toEqual([]);
    }, 60_000);

    test("without a daemon: a scikit-learn classifier loses its ZipMap, is told so, and serves labels and " +
      "probabilities that agree with its own", async () => {
      const made = zipmap as ForeignModel;
      const rows = made.inputs.float_input as number[][];
      const csv = join(dir.path, "forest.csv");
      writeFileSync(
        csv,
        `${[
          "petal,sepal,label",
          ...rows.map((row, i) => `${row.join(",")},${(made.expected.output_label as number[])[i]}`),
        ].join("\n")}\n`,
      );
      const added = await cli(["models", "add", "forest", made.model, "--features-from", csv, "--activate"]);
      expect(added.stderr).toContain(
        "output output_probability: scikit-learn's ZipMap (one map per row) removed; it is now the probability " +
          "tensor [N, 3] of classes 0, 1, 2",
      );
      expect(added.code).toBe(0);
      expect(added.stdout).toContain("forest: version 1 imported from");
      expect(added.stdout).toContain("serving (gate, activate)");
      const [version] = JSON.parse((await cli(["model", "forest", "--json"])).stdout).versions;
      expect(version).toMatchObject({
        source: "import",
        task: "classification",
        feature_names: ["petal", "sepal"],
        classes: ["0", "1", "2"],
        status: "active",
      });
      expect(version.imported.sha256).toBe(
        new Bun.CryptoHasher("sha256").update(readFileSync(made.model)).digest("hex"),
      );
      expect(version.gate).toMatchObject({ metric: "accuracy", candidate: 1, rows: rows.length, passed: true });

      // The same forest voting the other way round: the gate compares it with version 1 on the same rows.
      const worse = onnx.ModelProto.decode(readFileSync(made.model));
      const forest = worse.graph!.node!.find((node) => node.opType === "TreeEnsembleClassifier")!;
      const weights = forest.attribute!.find((attribute) => attribute.name === "class_weights")!;
      weights.floats = [...weights.floats!].reverse();
      const worseFile = join(dir.path, "worse.onnx");
      writeFileSync(worseFile, onnx.ModelProto.encode(worse).finish());
      const rejected = await cli(["models", "add", "forest", worseFile, "--features-from", csv, "--activate"]);
      expect(rejected.code).toBe(1);
      expect(rejected.stdout).toContain("forest: version 2 imported");
      expect(rejected.stdout).toContain("not serving: gate: rejected: accuracy");
      const versions = JSON.parse((await cli(["model", "forest", "--json"])).stdout).versions as Array<{
        status: string;
      }>;
      expect(versions.map((v) => v.status)).toEqual(["rejected", "active"]);
    }, 60_000);

    test("through the daemon: PyTorch, two inputs and the forest answer through /v1/predict and the Open Inference " +
      "Protocol as their frameworks do", async () => {
      const daemon = await startDaemonProcess(home, ["--home", home, "--headless"]);
      try {
        const post = (path: string, body: unknown) =>
          fetch(`${daemon.url}${path}`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(body),
          });
        const net = torch as ForeignModel;
        const added = await cli(["models", "add", "net", net.model, "--activate"]);
        expect(added.code).toBe(0);
        expect(added.stdout).toContain("net: version 1 imported");
        const two = twoInput as ForeignModel;
        expect((await cli(["models", "add", "two", two.model, "--activate"])).code).toBe(0);

        const rows = net.inputs.input as number[][];
        const v1 = (await (await post("/v1/predict/net", { inputs: rows })).json()) as {
          outputs: Array<{ output: number[] }>;
        };
        expect(
          closeTo(
            v1.outputs.map((row) => row.output),
            net.expected.output,
          ),
        ).toBe(true);
        const both = (await (await post("/v1/predict/two", { inputs: two.inputs })).json()) as {
          outputs: Array<{ y: number[] }>;
        };
        expect(
          closeTo(
            both.outputs.map((row) => row.y),
            two.expected.y,
          ),
        ).toBe(true);
        const bad = await post("/v1/predict/two", { inputs: { a: [[1, 2]], b: [[1]] } });
        expect(bad.status).toBe(400);
        expect(((await bad.json()) as { message: string }).message).toBe(
          "inputs.a: dimension 1 is 2; model two takes a (float32 [batch, 3])",
        );
        const forest = (await (await post("/v1/predict/forest", { inputs: zipmapRows() })).json()) as {
          outputs: Array<{ label: string; probabilities: Record<string, number> }>;
        };
        expect(forest.outputs.map((o) => o.label)).toEqual((zipmap as ForeignModel).expected.output_label!.map(String));
        expect(
          closeTo(
            forest.outputs.map((o) => Object.values(o.probabilities)),
            (zipmap as ForeignModel).expected.output_probability,
          ),
        ).toBe(true);

        // Shaped like the protocol's published examples: a batch of two rows, FP32, nested data; an id echoed.
        expect(await (await fetch(`${daemon.url}/v2/health/ready`)).json()).toEqual({ ready: true });
        expect(await (await fetch(`${daemon.url}/ready`)).json()).toEqual({ ready: true });
        expect(await (await fetch(`${daemon.url}/v2/models/net`)).json()).toEqual({
          name: "net",
          versions: ["1"],
          platform: "onnxruntime_onnx",
          inputs: [{ name: "input", datatype: "FP32", shape: [-1, 4] }],
          outputs: [{ name: "output", datatype: "FP32", shape: [-1, 3] }],
        });
        expect(await (await fetch(`${daemon.url}/v2/models/net/ready`)).json()).toEqual({ name: "net", ready: true });
        const infer = await post("/v2/models/net/infer", {
          id: "42",
          inputs: [{ name: "input", shape: [2, 4], datatype: "FP32", data: rows.slice(0, 2) }],
        });
        const answer = (await infer.json()) as {
          model_name: string;
          model_version: string;
          id: string;
          outputs: Array<{ name: string; datatype: string; shape: number[]; data: number[] }>;
        };
        expect(answer).toMatchObject({
          model_name: "net",
          model_version: "1",
          id: "42",
          outputs: [{ name: "output", datatype: "FP32", shape: [2, 3] }],
        });
        expect(closeTo(answer.outputs[0]!.data, (net.expected.output as number[][]).slice(0, 2).flat())).toBe(true);
        const twoAnswer = (await (
          await post("/v2/models/two/infer", {
            inputs: [
              { name: "a", shape: [2, 3], datatype: "FP32", data: (two.inputs.a as number[][]).flat() },
              { name: "b", shape: [2, 1], datatype: "FP32", data: (two.inputs.b as number[][]).flat() },
            ],
            outputs: [{ name: "y" }],
          })
        ).json()) as { outputs: Array<{ name: string; data: number[] }> };
        expect(twoAnswer.outputs.map((o) => o.name)).toEqual(["y"]);
        expect(closeTo(twoAnswer.outputs[0]!.data, (two.expected.y as number[][]).flat())).toBe(true);
        const wrongType = await post("/v2/models/net/infer", {
          inputs: [{ name: "input", shape: [1, 4], datatype: "INT64", data: [1, 2, 3, 4] }],
        });
        expect(wrongType.status).toBe(400);
        expect(await wrongType.json()).toMatchObject({
          code: "bad_input",
          error: "inputs[0] (input): datatype INT64, but model net takes FP32",
        });
        const wrongShape = await post("/v2/models/net/infer", {
          inputs: [{ name: "input", shape: [1, 5], datatype: "FP32", data: [1, 2, 3, 4, 5] }],
        });
        expect(((await wrongShape.json()) as { error: string }).error).toBe(
          "inputs.input: dimension 1 is 5; model net takes input (float32 [batch, 4])",
        );
        // The scikit-learn classifier: its labels as INT64, its probabilities (no longer a ZipMap) as FP32.
        const trees = zipmap as ForeignModel;
        const flatRows = zipmapRows().flat();
        const forestInputs = [
          { name: "float_input", shape: [zipmapRows().length, 2], datatype: "FP32", data: flatRows },
        ];
        const forestAnswer = (await (await post("/v2/models/forest/infer", { inputs: forestInputs })).json()) as {
          outputs: Array<{ name: string; datatype: string; shape: number[]; data: number[] }>;
        };
        const [labels, probabilities] = forestAnswer.outputs;
        expect([labels!.name, labels!.datatype, probabilities!.name, probabilities!.datatype]).toEqual([
          "output_label",
          "INT64",
          "output_probability",
          "FP32",
        ]);
        expect(labels!.data).toEqual(trees.expected.output_label as number[]);
        expect(closeTo(probabilities!.data, (trees.expected.output_probability as number[][]).flat())).toBe(true);
        expect((await fetch(`${daemon.url}/v2/models/nope/ready`)).status).toBe(404);
        expect((await fetch(`${daemon.url}/health`)).status).toBe(200);
      } finally {
        daemon.proc.kill("SIGTERM");
        await daemon.proc.exited;
      }
    }, 120_000);

    test("a file over api.max_body_kb is refused by the daemon with what to do, and nothing is stored", async () => {
      const small = join(dir.path, "small-home");
      const profile = join(dir.path, "small.yaml");
      writeFileSync(profile, "extends: base\napi:\n  max_body_kb: 1\n");
      const daemon = await startDaemonProcess(small, ["--home", small, "--headless", "--profile", profile]);
      try {
        const big = zipmap as ForeignModel;
        expect(readFileSync(big.model).length).toBeGreaterThan(1024);
        const home = ["--home", small, "--profile", profile];
        const added = await runCli(["models", "add", "big", big.model, ...home], { home: dir.path });
        expect(added.code).toBe(1);
        expect(added.stderr).toContain("is over api.max_body_kb (1 KiB)");
        expect(added.stderr).toContain("raise api.max_body_kb in the profile and restart the daemon");
        const listed = await runCli(["models", "--json", ...home], { home: dir.path });
        expect(JSON.parse(listed.stdout)).toEqual([]);
      } finally {
        daemon.proc.kill("SIGTERM");
        await daemon.proc.exited;
      }
    }, 60_000);
  },
);

function zipmapRows(): number[][] {
  return (zipmap as ForeignModel).inputs.float_input as number[][];
}
