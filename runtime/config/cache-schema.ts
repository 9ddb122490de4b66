import * as v from "valibot";
import { Duration } from "./duration.ts";
import { PluginOptions } from "./job-schema.ts";
import { positiveInt } from "./numeric-fields.ts";

const doc = v.description;

/** The profile's `cache:` section (part of runtime/config/schema.ts): the prediction cache. */
export const Cache = v.strictObject({
  type: v.optional(v.pipe(v.string(), doc("Cache plugin: memory, disk or tiered.")), "memory"),
  ttl: v.optional(Duration, "1h"),
  ttl_during_training: v.optional(Duration, "24h"),
  max_entries: v.optional(
    positiveInt(
      "Entries kept in memory (memory and tiered caches), each counted once per 256 bytes of its key and JSON " +
        "(a batch's answer as several); as many more asked for only once (up to 16,384) wait as bytes, 256 each.",
    ),
    10_000,
  ),
  options: v.optional(PluginOptions, {}),
  pregenerate: v.optional(
    v.strictObject({
      file: v.optional(
        v.pipe(
          v.string(),
          doc(
            'JSON lines of {"model", "inputs"} answered right before scheduled training and after each activation; ' +
              "relative to home.",
          ),
        ),
      ),
      top: v.optional(
        v.pipe(
          v.number(),
          v.integer(),
          v.minValue(0),
          doc("Also the most requested inputs (asked at least twice), this many per model."),
        ),
        20,
      ),
    }),
    {},
  ),
});
