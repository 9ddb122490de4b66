import { onnx } from "onnx-proto";
import { EdgetrainError } from "../errors.ts";

/** What edgetrain's strategies store in an ONNX model's metadata_props under `edgetrain`. */
export interface ModelDescription {
  task: "classification" | "regression";
  feature_names: string[];
  classes: string[];
  strategy?: string;
  metrics?: Record<string, number>;
}

export function readModelDescription(bytes: Uint8Array, file: string): ModelDescription | undefined {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new EdgetrainError("model_not_loadable", `${file} is not an ONNX model: ${(error as Error).message}`, {
      details: { file },
    });
  }
  return describedIn(model);
}

/** The description a decoded model carries, if edgetrain made it. */
export function describedIn(model: onnx.ModelProto): ModelDescription | undefined {
  const entry = model.metadataProps.find((prop) => prop.key === "edgetrain");
  if (!entry?.value) return undefined;
  try {
    return JSON.parse(entry.value) as ModelDescription;
  } catch {
    // Another tool's text under the same key describes nothing edgetrain can use.
    return undefined;
  }
}
