import * as v from "valibot";
import { Duration } from "./duration.ts";
import { ConflictPolicy } from "./job-schema.ts";

const doc = v.description;

const Predictor = v.strictObject({
  name: v.pipe(v.string(), doc("Name used in prompts and logs.")),
  cmdline: v.optional(
    v.pipe(v.string(), doc("A process whose command line contains this text counts as a live predictor.")),
  ),
  lockfile: v.optional(v.pipe(v.string(), doc("A predictor holds this lockfile while it runs."))),
  serving: v.optional(
    v.pipe(
      v.string(),
      doc(
        "edgetrain's own serving counts as this predictor while it answers requests for a matching model " +
          "(`activity-*`): for jobs whose copy-to-dir would overwrite files it serves.",
      ),
    ),
  ),
});

/** The profile's `conflicts:` section (part of runtime/config/schema.ts): live predictors a job must not disturb. */
export const Conflicts = v.strictObject({
  predictors: v.optional(v.array(Predictor), []),
  policy: v.optional(v.pipe(ConflictPolicy, doc("What a job does when it meets a live predictor.")), "ask"),
  on_unattended: v.optional(
    v.pipe(ConflictPolicy, doc("Policy used instead of `ask` when nobody can answer.")),
    "wait",
  ),
  ask_timeout: v.optional(Duration, "60s"),
  ask_default: v.optional(
    v.pipe(v.picklist(["wait", "skip", "force"]), doc("Answer taken when an `ask` prompt times out.")),
    "wait",
  ),
  check_interval: v.optional(Duration, "10s"),
  max_wait: v.optional(Duration, "5m"),
});
