import type * as Ort from "onnxruntime-common";
import type { TensorLike } from "../serving-session.ts";
import { largestInRow } from "../session-outputs.ts";
import type { EnsembleOutput, TreeEnsembleModel } from "./read-tree-ensemble.ts";
import { scoreRows } from "./tree-ensemble.ts";

/**
 * Runs a tree ensemble read from an ONNX model the way a session of ONNX Runtime would: same inputs,
 * outputs, shapes and values, from typed arrays about the size of the model file.
 */
export class TreeEnsembleSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly Ort.InferenceSession.ValueMetadata[];
  readonly outputMetadata: readonly Ort.InferenceSession.ValueMetadata[];

  constructor(private readonly model: TreeEnsembleModel) {
    this.inputNames = [model.input.name];
    this.outputNames = model.outputs.map((output) => output.name);
    this.inputMetadata = [{ name: model.input.name, isTensor: true, type: "float32", shape: model.input.dims }];
    this.outputMetadata = model.outputs.map((output) => ({
      name: output.name,
      isTensor: true,
      type: output.from === "argmax" ? "int64" : "float32",
      shape: output.dims,
    }));
  }

  async run(feeds: Record<string, TensorLike>, fetches?: readonly string[]): Promise<Record<string, TensorLike>> {
    const { input, outputs, ensemble } = this.model;
    const fed = feeds[input.name];
    if (fed?.type !== "float32" || fed.dims.length !== 2 || !(fed.data instanceof Float32Array))
      throw new Error(`input '${input.name}' must be a float32 tensor [rows, features]`);
    const [rows, width] = fed.dims as [number, number];
    const declared = input.dims[1];
    const wanted = typeof declared === "number" ? `${declared}` : `at least ${ensemble.minWidth}`;
    if ((typeof declared === "number" && width !== declared) || width < ensemble.minWidth)
      throw new Error(`input '${input.name}' has ${width} features; the model takes ${wanted}`);
    const scores = scoreRows(ensemble, fed.data, rows, width);
    const answer: Record<string, TensorLike> = {};
    for (const output of outputs)
      if (!fetches || fetches.includes(output.name))
        answer[output.name] = tensorOf(output, scores, rows, ensemble.targets);
    return answer;
  }

  async release(): Promise<void> {}
}

function tensorOf(output: EnsembleOutput, scores: Float32Array, rows: number, targets: number): TensorLike {
  if (output.from === "scores") return { type: "float32", dims: [rows, targets], data: scores };
  const labels = new BigInt64Array(rows);
  for (let row = 0; row < rows; row++) labels[row] = BigInt(largestInRow(scores, row, targets));
  return { type: "int64", dims: [rows], data: labels };
}
