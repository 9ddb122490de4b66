import * as v from "valibot";
import { Count, Fields, IsoTime, Metrics, Text } from "./response-fields.ts";

/** What the model routes answer (part of response-schemas.ts): versions, imports, deployments. */

export const ModelVersion = v.object({
  model: Text,
  version: Count,
  status: v.picklist(["candidate", "active", "retired", "rejected", "rolled_back"]),
  path: v.pipe(v.string(), v.description("The version's ONNX file on the device.")),
  note: v.optional(v.pipe(v.string(), v.description("Why it was rejected or rolled back."))),
  gate: v.optional(Fields),
  job: v.optional(Text),
  key: v.optional(Text),
  run: v.optional(Text),
  strategy: v.optional(Text),
  options: v.optional(Fields),
  data: v.optional(v.pipe(Fields, v.description("The data window in words, files and row counts."))),
  task: v.optional(v.picklist(["classification", "regression"])),
  feature_names: v.optional(v.array(Text)),
  classes: v.optional(v.array(Text)),
  metrics: Metrics,
  parent: v.optional(v.pipe(Count, v.description("The version that served when the run that made it started."))),
  warm_started: v.optional(v.pipe(v.boolean(), v.description("Whether the run continued from the parent's weights."))),
  created_at: IsoTime("When the version was stored"),
  sha256: Text,
  source: v.optional(
    v.pipe(
      v.picklist(["run", "fleet", "import"]),
      v.description("Where the version came from: a run here, a fleet update from the hub, or an import."),
    ),
  ),
  fleet: v.optional(
    v.pipe(
      v.object({ rollout: Text, version: Count, issued_at: Text }),
      v.description("Of a fleet update: the rollout that brought it and the hub's version number."),
    ),
  ),
  imported: v.optional(
    v.pipe(
      v.object({
        file: Text,
        sha256: Text,
        changes: v.array(Text),
        converter: v.optional(v.pipe(Text, v.description("The converter that made a .pkl, .pt or .keras file ONNX."))),
        conversion: v.optional(v.pipe(Text, v.description("What the converter converted, in words."))),
      }),
      v.description(
        "Of an imported version: the file as given, its sha256 before any change, and what was changed (a ZipMap " +
          "removed); for a file of another framework, the converter and what it converted.",
      ),
    ),
  ),
});
export const ModelSummary = v.object({
  model: Text,
  active: v.optional(v.pipe(v.number(), v.description("The serving version; absent when none serves."))),
  versions: v.pipe(v.number(), v.description("How many versions are kept.")),
  latest: Count,
  job: v.optional(Text),
  key: v.optional(Text),
  metrics: v.optional(Metrics),
  activated_at: v.optional(IsoTime("When the serving version was activated")),
});
export const ModelList = v.object({ models: v.array(ModelSummary) });
export const ModelDetail = v.object({
  model: Text,
  active: v.optional(Count),
  versions: v.array(ModelVersion),
  feature_names: v.optional(v.array(Text)),
  classes: v.optional(v.array(Text)),
});
export const ModelActivated = v.object({ activated: ModelVersion });
const DeploymentSchema = v.object({
  model: Text,
  version: v.optional(v.pipe(Count, v.description("Absent when the deploy failed before the store had the model."))),
  status: v.pipe(
    v.picklist(["activated", "rejected", "stored", "failed"]),
    v.description(
      "activated; rejected by the gate; stored (no step activated it); failed (a step broke, rolled back, or " +
        "the deploy itself broke).",
    ),
  ),
  message: v.optional(Text),
  retry_at_start: v.optional(
    v.pipe(v.boolean(), v.description("Failed on the machine (EACCES, ENOSPC, EIO…): tried again at the next start.")),
  ),
  steps: v.array(
    v.object({ step: Text, ok: v.boolean(), message: v.optional(Text), rolled_back: v.optional(v.boolean()) }),
  ),
});
export const ModelImported = v.object({
  version: ModelVersion,
  changes: v.pipe(
    v.array(Text),
    v.description("What was changed in the file to serve it, such as a ZipMap output removed."),
  ),
  deployment: v.optional(v.pipe(DeploymentSchema, v.description("The deploy steps' outcome, when asked to activate."))),
});
export const ModelRolledBack = v.object({ active: ModelVersion });
