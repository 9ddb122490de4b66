import * as v from "valibot";
import { Count, Text } from "./response-fields.ts";

/** What the prediction and cache routes answer (part of response-schemas.ts). */

const PredictionOutput = v.union([
  v.object({ label: Text, probabilities: v.record(v.string(), v.number()) }),
  v.pipe(v.number(), v.description("A regression's value.")),
  v.pipe(v.array(v.number()), v.description("A model with several outputs.")),
  v.pipe(
    v.record(v.string(), v.unknown()),
    v.description("A model whose task is not known: each output's row by name, nested by its dimensions."),
  ),
]);
export const Prediction = v.object({
  model: Text,
  version: Count,
  outputs: v.pipe(v.array(PredictionOutput), v.description("One per input row, in order.")),
  cached: v.boolean(),
  stale: v.optional(
    v.pipe(
      v.boolean(),
      v.description("Served from an expired entry while the model trains; a fresh answer is being computed."),
    ),
  ),
});
export const CacheCleared = v.object({
  cleared: v.pipe(v.string(), v.description("The model whose entries were dropped, or all.")),
});
export const CacheWarmed = v.object({
  warmed: v.array(
    v.object({ model: Text, entries: v.pipe(Count, v.description("Pregenerated batches computed and cached.")) }),
  ),
});
