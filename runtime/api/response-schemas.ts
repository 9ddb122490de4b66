import * as v from "valibot";
import { IsoTime, Text } from "./response-fields.ts";

/**
 * What every route answers, as valibot schemas (one file per area of the API, gathered here): the contract's types are
 * inferred from them and the
 * OpenAPI document's components converted from them, so the two cannot drift apart. Nothing validates
 * answers with them at run time (a prediction pays for no extra check); the tests do.
 */

export * from "./conflict-response-schemas.ts";
export * from "./model-response-schemas.ts";
export * from "./prediction-response-schemas.ts";
export * from "./run-response-schemas.ts";
export * from "./status-response-schemas.ts";
export * from "./v2-response-schemas.ts";

export const ErrorBody = v.pipe(
  v.looseObject({
    code: v.pipe(
      v.string(),
      v.description("Stable, for programs: not_found, conflict, bad_request, unauthorized, deferred, …"),
    ),
    message: v.pipe(v.string(), v.description("For people: what is wrong, naming the field or the thing.")),
    hint: v.optional(v.pipe(v.string(), v.description("What to do about it, one line."))),
  }),
  v.description(
    "Every error, whatever its status. Facts for programs (the field, the run, the model) are further fields.",
  ),
);

export const Health = v.object({ status: v.literal("ok") });
export const Readiness = v.object({
  ready: v.boolean(),
  reason: v.optional(
    v.pipe(v.string(), v.description("Why not: the state database, or the model whose serving version does not load.")),
  ),
});

export const ProfileText = v.object({
  name: Text,
  files: v.array(Text),
  text: v.pipe(
    v.string(),
    v.description("The resolved profile as YAML, each value with where it came from; secrets masked."),
  ),
});
export const LogLine = v.looseObject({
  time: IsoTime("When it was logged"),
  level: v.picklist(["debug", "info", "warn", "error"]),
  msg: Text,
});
export const LogList = v.object({ lines: v.pipe(v.array(LogLine), v.description("Oldest first.")) });
