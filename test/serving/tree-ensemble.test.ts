import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { onnx } from "onnx-proto";
import * as ort from "onnxruntime-node";
import { type Forest, trainForest } from "../../plugins/strategies/random-forest/forest.ts";
import { forestToOnnx } from "../../plugins/strategies/random-forest/onnx-export.ts";
import { seededRandom } from "../../plugins/strategies/shared/random.ts";
import { signatureOf } from "../../runtime/inference/model-signature.ts";
import { loadOnnxRuntime } from "../../runtime/inference/onnx-runtime.ts";
import { BUILTIN_TREES } from "../../runtime/inference/session-factory.ts";
import { sessionOptions } from "../../runtime/inference/session-options.ts";
import { SessionPool } from "../../runtime/inference/session-pool.ts";
import { sessionBytes } from "../../runtime/inference/session-slot.ts";
import { readOnnxGraph } from "../../runtime/inference/tree-ensemble/read-onnx-graph.ts";
import { readTreeEnsemble } from "../../runtime/inference/tree-ensemble/read-tree-ensemble.ts";
import { TreeEnsembleSession } from "../../runtime/inference/tree-ensemble/tree-ensemble-session.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import { tempDir } from "../helpers.ts";

const FEATURES = 6;

/** Rows of features with about one value in twelve missing (NaN), and a target that depends on three of them. */
function table(rows: number, seed: number) {
  const random = seededRandom(seed);
  const x = new Float32Array(rows * FEATURES);
  for (let i = 0; i < x.length; i++) x[i] = random() < 0.08 ? Number.NaN : random() * 10 - 5;
  const signal = (row: number) =>
    (x[row * FEATURES] || 0) + 0.5 * (x[row * FEATURES + 2] || 0) - (x[row * FEATURES + 4] || 0);
  return { x, rows, signal };
}

async function forest(task: "classification" | "regression", classes: number, tracks = true): Promise<Forest> {
  const { x, rows, signal } = table(600, 11);
  const y =
    task === "classification"
      ? Uint8Array.from({ length: rows }, (_, row) =>
          Math.min(classes - 1, Math.max(0, Math.floor(signal(row) / 4 + classes / 2))),
        )
      : Float32Array.from({ length: rows }, (_, row) => signal(row));
  const trained = await trainForest(
    { x, rows, features: FEATURES, y, task, classCount: task === "classification" ? classes : 0 },
    {
      trees: 25,
      maxDepth: 7,
      minSamplesSplit: 2,
      minSamplesLeaf: 1,
      bootstrap: true,
      seed: 5,
      jobs: 1,
      maxFeatures: 3,
    },
  );
  // Some branches send missing values the true way, so that both ways of a NaN are compared; without, every
  // NaN goes the false way (the walk that reads no modes).
  const random = seededRandom(3);
  if (tracks)
    for (const tree of trained.trees) tree.missingLeft = Uint8Array.from(tree.feature, () => (random() < 0.5 ? 1 : 0));
  return trained;
}

async function bothWays(bytes: Uint8Array, rows = 400) {
  const { x } = table(rows, 99);
  // One intra-op thread, as serving runs its sessions: with more, ONNX Runtime sums the trees in another order.
  const reference = await ort.InferenceSession.create(bytes, sessionOptions(1));
  const model = readTreeEnsemble(readOnnxGraph(bytes));
  if (!model) throw new Error("the forest was not read as a tree ensemble");
  // Read from the wire as onnx-proto's full decoder reads it.
  expect(readTreeEnsemble(onnx.ModelProto.decode(bytes))).toEqual(model);
  const builtin = new TreeEnsembleSession(model);
  const walk = model.ensemble.plainLeq ? "plain" : "by mode";
  const expected = await reference.run({ features: new ort.Tensor("float32", x, [rows, FEATURES]) });
  const actual = await builtin.run({ features: { type: "float32", data: x, dims: [rows, FEATURES] } });
  const signatures = [signatureOf(reference), signatureOf(builtin)];
  await reference.release();
  return { expected, actual, signatures, walk };
}

/** A session pool on the real ONNX Runtime, counting the times it asks for the runtime. */
function poolIn(home: string, treeEnsembles?: "builtin" | "onnxruntime") {
  let loads = 0;
  const pool = new SessionPool({
    runtime: () => (loads++, loadOnnxRuntime({ preference: "auto", cacheDir: join(home, "cache") })),
    memoryBudgetMb: 64,
    accelerator: "cpu",
    maxBatchRows: 64,
    logger: silentLogger,
    ...(treeEnsembles ? { treeEnsembles } : {}),
  });
  return { pool, runtimeLoads: () => loads };
}

describe("tree ensembles served without ONNX Runtime", () => {
  for (const [task, classes, tracks] of [
    ["classification", 2, true],
    ["classification", 4, true],
    ["regression", 1, true],
    ["classification", 3, false],
    ["regression", 1, false],
  ] as const) {
    const kind = task === "classification" ? `${classes}-class` : "regression";
    const missing = tracks ? "missing values going either way" : "missing values going the false way";
    test(`a ${kind} forest gives ONNX Runtime's outputs to the bit, ${missing}`, async () => {
      const trained = await forest(task, classes, tracks);
      const { expected, actual, signatures, walk } = await bothWays(forestToOnnx(trained, {}));
      expect(walk).toBe(tracks ? "by mode" : "plain");
      expect(signatures[1]).toEqual(signatures[0]!);
      expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
      for (const [name, tensor] of Object.entries(expected)) {
        expect(actual[name]!.type).toBe(tensor.type);
        expect([...actual[name]!.dims]).toEqual([...tensor.dims]);
        expect(actual[name]!.data).toEqual(tensor.data);
      }
    }, 60_000);
  }

  test("a graph that is more than a tree ensemble, or one ONNX Runtime reads its own way, is left to ONNX " +
    "Runtime", async () => {
    const bytes = forestToOnnx(await forest("classification", 3), {});
    const changed = (change: (model: onnx.ModelProto) => void) => {
      const model = onnx.ModelProto.decode(bytes);
      change(model);
      return readTreeEnsemble(model);
    };
    const graph = (model: onnx.ModelProto) => model.graph as onnx.GraphProto;
    const ensemble = (model: onnx.ModelProto) => graph(model).node[0] as onnx.NodeProto;
    const setText = (model: onnx.ModelProto, name: string, value: string) =>
      ensemble(model).attribute.push(
        onnx.AttributeProto.create({
          name,
          type: onnx.AttributeProto.AttributeType.STRING,
          s: new TextEncoder().encode(value),
        }),
      );
    expect(changed(() => {})).toBeDefined();
    expect(changed((model) => setText(model, "nodes_values_as_tensor", ""))).toBeUndefined();
    expect(
      changed((model) => {
        const post = ensemble(model).attribute.find((a) => a.name === "post_transform")!;
        post.s = new TextEncoder().encode("SOFTMAX");
      }),
    ).toBeUndefined();
    expect(
      changed((model) =>
        ensemble(model).attribute.push(
          onnx.AttributeProto.create({
            name: "base_values",
            type: onnx.AttributeProto.AttributeType.FLOATS,
            floats: [0.1, 0, 0],
          }),
        ),
      ),
    ).toBeUndefined();
    // The classifier's own label (its rule, not the largest probability) as a graph output.
    expect(changed((model) => (graph(model).output[0]!.name = "ensemble_label"))).toBeUndefined();
    expect(
      changed((model) =>
        graph(model).node.push(
          onnx.NodeProto.create({ opType: "Softmax", input: ["probabilities"], output: ["soft"] }),
        ),
      ),
    ).toBeUndefined();
    // Two classes whose weights name only one of them: ONNX Runtime makes the other's score itself.
    const two = forestToOnnx(await forest("classification", 2), {});
    const oneClass = onnx.ModelProto.decode(two);
    const attributes = ensemble(oneClass).attribute;
    const ids = attributes.find((a) => a.name === "class_ids")!;
    const keep = (ids.ints as number[]).map((id) => Number(id) === 1);
    for (const name of ["class_ids", "class_treeids", "class_nodeids"]) {
      const attribute = attributes.find((a) => a.name === name)!;
      attribute.ints = (attribute.ints as number[]).filter((_, i) => keep[i]);
    }
    const weights = attributes.find((a) => a.name === "class_weights")!;
    weights.floats = (weights.floats ?? []).filter((_, i) => keep[i]);
    expect(readTreeEnsemble(oneClass)).toBeUndefined();
    // A branch whose true child is its tree's root: a cycle, which a walk would follow forever.
    expect(
      changed((model) => {
        const attributes = ensemble(model).attribute;
        const modes = attributes.find((a) => a.name === "nodes_modes")!.strings!;
        const branch = modes.findIndex((mode, n) => n > 0 && new TextDecoder().decode(mode) !== "LEAF");
        const trueIds = attributes.find((a) => a.name === "nodes_truenodeids")!;
        trueIds.ints = (trueIds.ints as number[]).map((id, n) => (n === branch ? 0 : id));
      }),
    ).toBeUndefined();
    // An ArgMax over the last axis (-1, ten bytes on the wire) is not the one edgetrain writes.
    const lastAxis = onnx.ModelProto.decode(bytes);
    (graph(lastAxis).node[1] as onnx.NodeProto).attribute.find((a) => a.name === "axis")!.i = -1;
    const read = readOnnxGraph(onnx.ModelProto.encode(lastAxis).finish());
    expect(read.graph?.node?.[1]?.attribute?.find((a) => a.name === "axis")?.i).toBe(-1);
    expect(readTreeEnsemble(read)).toBeUndefined();
  }, 60_000);

  test("a damaged model file is refused by the reader, and by the pool with ONNX Runtime's reason", async () => {
    await using dir = tempDir();
    const bytes = forestToOnnx(await forest("regression", 1), {});
    const cut = bytes.subarray(0, Math.floor(bytes.byteLength / 2));
    expect(() => readOnnxGraph(cut)).toThrow("past the end");
    const file = join(dir.path, "cut.onnx");
    writeFileSync(file, cut);
    const { pool } = poolIn(dir.path);
    await expect(pool.acquire("m", 3, file)).rejects.toThrow(
      /model m version 3: .*cut\.onnx does not load in ONNX Runtime/,
    );
    await pool.close();
  }, 60_000);

  test("the session pool serves a forest with the built-in trees by default, in a third of a session's memory " +
    "or less, and with ONNX Runtime when the profile says so, with the same answers", async () => {
    await using dir = tempDir();
    const file = join(dir.path, "model.onnx");
    const bytes = forestToOnnx(await forest("classification", 3), {});
    writeFileSync(file, bytes);
    const { x } = table(50, 7);
    const { pool: builtin, runtimeLoads: builtinLoads } = poolIn(dir.path);
    const slot = await builtin.acquire("m", 1, file);
    expect(slot.provider).toBe(BUILTIN_TREES);
    expect(slot.bytes).toBeLessThan(sessionBytes(bytes.byteLength) / 3);
    expect(builtinLoads()).toBe(0);
    const answers = await builtin.run(slot, x, 50);
    const { pool: onnxRuntime, runtimeLoads: onnxRuntimeLoads } = poolIn(dir.path, "onnxruntime");
    const other = await onnxRuntime.acquire("m", 1, file);
    expect(other.provider).toBe("cpu");
    expect(onnxRuntimeLoads()).toBe(1);
    expect(await onnxRuntime.run(other, x, 50)).toEqual(answers);
    await builtin.close();
    await onnxRuntime.close();
  }, 60_000);
});
