import { EdgetrainError } from "../errors.ts";
import type { ModelSignature } from "../inference/model-signature.ts";
import type { PredictionRequest } from "../inference/prediction-input.ts";
import type { OutputTensor } from "../inference/session-outputs.ts";
import { toFeeds } from "../inference/tensor-input.ts";

/**
 * The feeds of a predict request to a model that takes no single table, or of one that gives tensors by
 * name: checked against the model's declared inputs.
 */
export function tensorFeeds(signature: ModelSignature, model: string, request: PredictionRequest, maxRows: number) {
  const { inputs } = signature;
  const names = inputs.map((i) => i.name);
  if (request.rows) {
    const message = `rows: model ${model} names no features; give "inputs" by input name (${names.join(", ")})`;
    throw new EdgetrainError("bad_input", message, { details: { field: "rows" } });
  }
  if (Array.isArray(request.inputs) && inputs.length !== 1) {
    const form = `{"inputs": {${names.map((name) => `"${name}": …`).join(", ")}}}`;
    const message = `inputs: model ${model} takes ${inputs.length} inputs; give them by name: ${form}`;
    throw new EdgetrainError("bad_input", message, { details: { field: "inputs" } });
  }
  const given = Array.isArray(request.inputs) ? { [inputs[0]!.name]: request.inputs } : (request.inputs ?? {});
  return toFeeds(given, signature, model, "inputs", maxRows);
}

export function byName(tensors: OutputTensor[]): Record<string, OutputTensor> {
  return Object.fromEntries(tensors.map((tensor) => [tensor.name, tensor]));
}
