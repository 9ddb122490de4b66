/** A profile's jobs: what each trains (or scores) on, when, under which constraints, and where its model goes. */
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

const JobFields = v.strictObject({
  strategy: v.optional(
    v.pipe(v.string(), doc("Name of the training strategy plugin. A job names a strategy or `score`.")),
  ),
  score: v.optional(
    v.pipe(
      v.string(),
      doc(
        "Name of a score plugin (`predictions`): instead of training, the job runs the active version of `model` " +
          "over the data files it has not scored yet.",
      ),
    ),
  ),
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
          "continues from the active version whichever job made it. Default: JOB-KEY, or JOB for a job without keys. " +
          "A score job scores its data with this model's active version.",
      ),
    ),
  ),
  triggers: v.optional(v.array(PluginStep), []),
  constraints: v.optional(
    v.strictObject({
      only_in: v.optional(v.pipe(v.picklist(["any", "off-peak"]), doc("When runs may start."))),
      not_during: v.optional(
        v.pipe(v.array(v.string()), doc("Predictor names (conflicts.predictors) that must not be running.")),
      ),
      on_conflict: v.optional(
        v.pipe(ConflictPolicy, doc("This job's policy when it meets one; default conflicts.policy.")),
      ),
    }),
    {},
  ),
  priority: v.optional(v.pipe(v.number(), v.integer(), doc("Higher goes first.")), 0),
  max_runtime: v.optional(
    v.pipe(
      Duration,
      doc(
        "A run going longer than this is cancelled, warned at 90 % of it. Default: the strategy's own " +
          "(command 24h, incremental-nn 6h, random-forest 2h), else 2h.",
      ),
    ),
  ),
  deploy: v.optional(
    v.pipe(
      v.array(v.union([v.string(), PluginStep], "a deploy step name or { type: NAME, …options }")),
      doc(
        "Steps a trained model passes in order (gate, activate, copy-to-dir, command). " +
          "Left out or empty: gate, then activate.",
      ),
    ),
    [],
  ),
  enabled: v.optional(v.boolean(), true),
});
type JobFields = v.InferOutput<typeof JobFields>;

const rule = (holds: (job: JobFields) => boolean, message: string) => v.check(holds, message);

// Rules across a job's fields, each forwarded to the field it is about so that `edgetrain validate` shows its line.
export const Job = v.pipe(
  JobFields,
  v.forward(
    rule(
      (job) => job.strategy !== undefined || job.score !== undefined,
      'missing required key "strategy" (or "score", for a batch scoring job)',
    ),
    ["strategy"],
  ),
  v.forward(
    rule(
      (job) => job.strategy === undefined || job.score === undefined,
      "a job names a strategy (training) or score (batch scoring), not both",
    ),
    ["score"],
  ),
  v.forward(
    rule(
      (job) => job.score === undefined || job.model !== undefined,
      'missing required key "model": the model whose active version a score job runs',
    ),
    ["model"],
  ),
  v.forward(
    rule(
      (job) => job.score === undefined || job.data !== undefined,
      'missing required key "data": the files a score job scores',
    ),
    ["data"],
  ),
  v.forward(
    rule(
      (job) => job.score === undefined || job.data?.source !== "rows" || job.data.key_column === undefined,
      "a score job keys its data by session folder or by file (key_from: file), not by key_column",
    ),
    ["data"],
  ),
);

export type PluginStep = v.InferOutput<typeof PluginStep>;
