/** A profile's jobs: what each trains on, when, under which constraints, and where its model goes. */
import * as v from "valibot";
import { DataSourceSpec } from "../data/source-spec.ts";
import { Duration } from "./duration.ts";

const doc = v.description;

/** Plugin options are checked by the plugin's own schema (plugin host), not here. */
export const PluginOptions = v.record(v.string(), v.unknown());

export const ConflictPolicy = v.picklist(["ask", "wait", "skip", "force"]);

export const PluginStep = v.looseObject({
  type: v.pipe(v.string(), doc("Name of the plugin; the other keys are its options.")),
});

export const Job = v.strictObject({
  strategy: v.pipe(v.string(), doc("Name of the training strategy plugin.")),
  options: v.optional(PluginOptions, {}),
  data: v.optional(DataSourceSpec),
  key: v.optional(v.pipe(v.string(), doc("Scope: one run and one model per key (e.g. per player)."))),
  model: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[A-Za-z0-9{][A-Za-z0-9._{}-]*$/, "a model name, with {key} and {job} where they go"),
      doc(
        "The model the job writes versions of: `btc-{key}` ({key}: the key, {job}: the job's name). Jobs naming " +
          "the same model share it: a weekly full retrain and a 6-hourly incremental update, whose warm start " +
          "continues from the active version whichever job made it. Default: JOB-KEY, or JOB for a job without keys.",
      ),
    ),
  ),
  triggers: v.optional(v.array(PluginStep), []),
  constraints: v.optional(
    v.strictObject({
      only_in: v.optional(v.pipe(v.picklist(["any", "off-peak"]), doc("When runs may start."))),
      not_during: v.optional(v.pipe(v.array(v.string()), doc("Predictor names (conflicts.predictors) that must not be running."))),
      on_conflict: v.optional(v.pipe(ConflictPolicy, doc("This job's policy when it meets one; default conflicts.policy."))),
    }),
    {},
  ),
  priority: v.optional(v.pipe(v.number(), v.integer(), doc("Higher goes first.")), 0),
  max_runtime: v.optional(
    v.pipe(Duration, doc("A run going longer than this is cancelled, warned at 90 % of it. Default: the strategy's own (command 24h, incremental-nn 6h, random-forest 2h), else 2h.")),
  ),
  deploy: v.optional(
    v.pipe(
      v.array(v.union([v.string(), PluginStep], "a deploy step name or { type: NAME, …options }")),
      doc("Steps a trained model passes in order (gate, activate, copy-to-dir, command). Left out or empty: gate, then activate."),
    ),
    [],
  ),
  enabled: v.optional(v.boolean(), true),
});

export type PluginStep = v.InferOutput<typeof PluginStep>;
