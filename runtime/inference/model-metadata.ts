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
  const entry = model.metadataProps.find((prop) => prop.key === "edgetrain");
  return entry?.value ? (JSON.parse(entry.value) as ModelDescription) : undefined;
}
