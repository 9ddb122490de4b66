import * as v from "valibot";
import { Text } from "./response-fields.ts";

/** The Open Inference Protocol's answers, KServe v2 (part of response-schemas.ts). */

const V2Tensor = v.object({
  name: Text,
  datatype: v.pipe(v.string(), v.description("FP32, INT64, BOOL, BYTES, …")),
  shape: v.pipe(v.array(v.number()), v.description("-1 for a dimension the model leaves open.")),
});
export const V2ServerMetadata = v.object({ name: Text, version: Text, extensions: v.array(Text) });
export const V2ModelMetadata = v.object({
  name: Text,
  versions: v.array(Text),
  platform: Text,
  inputs: v.array(V2Tensor),
  outputs: v.array(V2Tensor),
});
export const V2ModelReady = v.object({ name: Text, ready: v.boolean() });
export const V2InferResponse = v.object({
  model_name: Text,
  model_version: Text,
  id: v.optional(v.pipe(v.string(), v.description("The request's id, echoed."))),
  outputs: v.array(
    v.object({
      ...V2Tensor.entries,
      data: v.pipe(v.array(v.union([v.number(), v.string(), v.boolean()])), v.description("Row-major, flat.")),
    }),
  ),
});
