import { describe, expect, test } from "bun:test";
import { EdgetrainError } from "../../runtime/errors.ts";
import type { VersionMetadata } from "../../runtime/store/model-store.ts";
import { tempDir } from "../helpers.ts";
import { servingStack } from "./fixture.ts";
import { closeTo, type ForeignModel, foreignModel } from "./foreign-models.ts";

const torch = foreignModel("torch");
const twoInput = foreignModel("two-input");
const image = foreignModel("image");
const skipped = (made: ForeignModel | string) => (typeof made === "string" ? ` (skipped: ${made})` : "");

/** A model stored as it was exported (no features, no task) and made to serve. */
async function serving(home: string, model: string, made: ForeignModel, metadata: Partial<VersionMetadata> = {}) {
  const stack = await servingStack(home);
  await stack.store.addVersion(model, made.model, { metrics: {}, ...metadata });
  await stack.activator.activate(model, 1, "test");
  return stack;
}

async function badInput(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EdgetrainError);
  expect((error as EdgetrainError).code).toBe("bad_input");
  return (error as EdgetrainError).message;
}

describe("serving a model from another framework, by what it declares", () => {
  test.skipIf(typeof torch === "string")(
    `torch.onnx.export with input "input" and a dynamic batch: rows, nested or by name, agree with ` +
      `PyTorch${skipped(torch)}`,
    async () => {
      const made = torch as ForeignModel;
      await using dir = tempDir();
      const stack = await serving(dir.path, "net", made);
      try {
        const rows = made.inputs.input as number[][];
        const expected = made.expected.output as number[][];
        // No task was given: each row answers with its named outputs.
        const asRows = await stack.service.predict("net", { inputs: rows });
        expect(asRows.outputs.length).toBe(rows.length);
        expect(
          closeTo(
            asRows.outputs.map((row) => (row as { output: number[] }).output),
            expected,
          ),
        ).toBe(true);
        const byName = await stack.service.predict("net", { inputs: { input: rows } });
        expect(
          closeTo(
            byName.outputs.map((row) => (row as { output: number[] }).output),
            expected,
          ),
        ).toBe(true);
        const flat = await stack.service.predict("net", {
          inputs: { input: { data: rows.flat(), shape: [rows.length, 4] } },
        });
        expect(
          closeTo(
            flat.outputs.map((row) => (row as { output: number[] }).output),
            expected,
          ),
        ).toBe(true);
        const raw = await stack.service.infer("net", {
          inputs: [{ name: "input", datatype: "FP32", shape: [rows.length, 4], data: rows.flat() }],
        });
        expect(raw.outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([["output", "FP32", [rows.length, 3]]]);

        expect(await badInput(stack.service.predict("net", { inputs: [[1, 2, 3]] }))).toContain(
          "inputs[0]: model net takes 4 features",
        );
        expect(await badInput(stack.service.predict("net", { inputs: { input: [[1, 2, 3, 4, 5]] } }))).toBe(
          "inputs.input: dimension 1 is 5; model net takes input (float32 [batch, 4])",
        );
        expect(await badInput(stack.service.predict("net", { inputs: { input: [1, 2, 3, 4] } }))).toContain(
          "inputs.input: a tensor of rank 1 [4]",
        );
        expect(await badInput(stack.service.predict("net", { inputs: { image: [[1, 2, 3, 4]] } }))).toBe(
          'inputs.image: model net has no input "image" (inputs: input)',
        );
        expect(
          await badInput(
            stack.service.predict("net", {
              inputs: {
                input: [
                  [1, 2],
                  [3, 4, 5, 6],
                ],
              },
            }),
          ),
        ).toBe("inputs.input[1]: 4 values where the tensor has 2 (not rectangular)");
        expect(
          await badInput(stack.service.predict("net", { inputs: { input: { data: [1, 2, 3], shape: [1, 4] } } })),
        ).toBe("inputs.input.data: 3 values, but shape [1, 4] holds 4");
      } finally {
        await stack.close();
      }
    },
    60_000,
  );

  test.skipIf(typeof twoInput === "string")(
    `a model of two inputs and two outputs answers by input name, checked before ONNX Runtime${skipped(twoInput)}`,
    async () => {
      const made = twoInput as ForeignModel;
      await using dir = tempDir();
      const stack = await serving(dir.path, "two", made);
      try {
        const answer = await stack.service.predict("two", { inputs: made.inputs });
        expect(
          closeTo(
            answer.outputs.map((row) => (row as { y: number[] }).y),
            made.expected.y,
          ),
        ).toBe(true);
        expect(
          closeTo(
            answer.outputs.map((row) => (row as { s: number[] }).s),
            made.expected.s,
          ),
        ).toBe(true);
        expect(await badInput(stack.service.predict("two", { inputs: [[1, 2, 3]] }))).toBe(
          'inputs: model two takes 2 inputs; give them by name: {"inputs": {"a": …, "b": …}}',
        );
        expect(await badInput(stack.service.predict("two", { inputs: { a: [[1, 2, 3]] } }))).toBe(
          "inputs.b: missing: model two takes a (float32 [batch, 3]), b (float32 [batch, 1])",
        );
        expect(await badInput(stack.service.predict("two", { inputs: { a: [[1, 2, 3]], b: [[1], [2]] } }))).toBe(
          "inputs.b: dimension 0 (batch) is 2, but 1 in an input before: all inputs share batch",
        );
        expect(await badInput(stack.service.predict("two", { inputs: { a: [[1, 2, "x"]], b: [[1]] } }))).toBe(
          'inputs.a[2]: a finite number (got "x")',
        );
        expect(await badInput(stack.service.predict("two", { rows: [{ a: 1 }] }))).toContain(
          "rows: model two names no features",
        );
      } finally {
        await stack.close();
      }
    },
    60_000,
  );

  test.skipIf(typeof image === "string")(
    `an image model [N, 3, 8, 8] takes nested arrays or flat data with its shape, and agrees with ` +
      `PyTorch${skipped(image)}`,
    async () => {
      const made = image as ForeignModel;
      await using dir = tempDir();
      const stack = await serving(dir.path, "vision", made);
      try {
        const images = made.inputs.image as number[][][][];
        const scores = (outputs: unknown[]) => outputs.map((row) => (row as { scores: number[] }).scores);
        const nested = await stack.service.predict("vision", { inputs: images });
        expect(closeTo(scores(nested.outputs), made.expected.scores)).toBe(true);
        const flat = await stack.service.predict("vision", {
          inputs: { image: { data: images.flat(3), shape: [images.length, 3, 8, 8] } },
        });
        expect(closeTo(scores(flat.outputs), made.expected.scores)).toBe(true);
        const small = { inputs: { image: { data: new Array(3 * 4 * 4).fill(0), shape: [1, 3, 4, 4] } } };
        expect(await badInput(stack.service.predict("vision", small))).toBe(
          "inputs.image: dimension 2 is 4; model vision takes image (float32 [batch, 3, 8, 8])",
        );
      } finally {
        await stack.close();
      }
    },
    60_000,
  );

  test.skipIf(typeof torch === "string" || typeof twoInput === "string")(
    `the task the version records decides the answer: the most probable class, or one value${skipped(torch)}`,
    async () => {
      const net = torch as ForeignModel;
      await using dir = tempDir();
      const classes = ["walk", "run", "rest"];
      const stack = await serving(dir.path, "classifier", net, { task: "classification", classes });
      try {
        const answer = await stack.service.predict("classifier", { inputs: net.inputs.input as number[][] });
        const expected = net.expected.output as number[][];
        const argmax = (row: number[]) => classes[row.indexOf(Math.max(...row))]!;
        expect(answer.outputs.map((o) => (o as { label: string }).label)).toEqual(expected.map(argmax));
        const probabilities = answer.outputs.map((o) => Object.values((o as { probabilities: object }).probabilities));
        expect(closeTo(probabilities, expected, 1e-5)).toBe(true);
        const two = twoInput as ForeignModel;
        await stack.store.addVersion("value", two.model, { metrics: {}, task: "regression" });
        await stack.activator.activate("value", 1, "test");
        const values = await stack.service.predict("value", { inputs: two.inputs });
        expect(
          closeTo(
            values.outputs,
            (two.expected.y as number[][]).map(([y]) => y),
          ),
        ).toBe(true);
      } finally {
        await stack.close();
      }
    },
    60_000,
  );

  test.skipIf(typeof torch === "string")(
    `a run's version naming features but no task answers values, as before; an import without a task, its named ` +
      `outputs${skipped(torch)}`,
    async () => {
      const net = torch as ForeignModel;
      await using dir = tempDir();
      const feature_names = ["a", "b", "c", "d"];
      const stack = await serving(dir.path, "trained", net, { job: "foreign", feature_names });
      try {
        const rows = net.inputs.input as number[][];
        const trained = await stack.service.predict("trained", { inputs: rows });
        expect(closeTo(trained.outputs, net.expected.output)).toBe(true);
        await stack.store.addVersion("imported", net.model, { metrics: {}, feature_names, source: "import" });
        await stack.activator.activate("imported", 1, "test");
        const imported = await stack.service.predict("imported", { rows: [{ a: 1, b: 2, c: 3, d: 4 }] });
        expect(Object.keys(imported.outputs[0] as object)).toEqual(["output"]);
      } finally {
        await stack.close();
      }
    },
    60_000,
  );
});
