import * as v from "valibot";
import { Api } from "./api-schema.ts";
import { Cache } from "./cache-schema.ts";
import { Conflicts } from "./conflicts-schema.ts";
import { Fleet } from "./fleet-schema.ts";
import { Governor } from "./governor-schema.ts";
import { Hub } from "./hub-schema.ts";
import { Inference } from "./inference-schema.ts";
import { Job as JobSchema, PluginOptions, type PluginStep } from "./job-schema.ts";
import { Usage } from "./usage-schema.ts";

/**
 * The profile schema: the single source of truth for profile types, `profiles/schema.json`
 * (scripts/generate-schema.ts) and the defaults that `profiles/base.yaml` spells out.
 * Objects are strict so that a misspelled key is an error with a "did you mean".
 */

const doc = v.description;

const Device = v.strictObject({
  name: v.optional(v.pipe(v.string(), doc("Name shown in status and logs.")), "edge-device"),
  kind: v.optional(
    v.pipe(
      v.picklist(["generic", "jetson-nano", "jetson-orin", "gpu-server", "cloud-vm"]),
      doc("What kind of hardware this profile is for."),
    ),
    "generic",
  ),
  accelerator: v.optional(
    v.pipe(
      v.picklist(["auto", "cpu", "cuda"]),
      doc("Accelerator wanted for inference and training: auto uses CUDA when it loads."),
    ),
    "auto",
  ),
});

const Paths = v.strictObject({
  home: v.optional(
    v.pipe(
      v.string(),
      doc("edgetrain's home folder; relative paths below are resolved against it. `~` is the user's home."),
    ),
    "~/.edgetrain",
  ),
  data: v.optional(v.pipe(v.string(), doc("Where data sources look for training files.")), "data"),
  models: v.optional(v.pipe(v.string(), doc("Model store: numbered versions per model.")), "models"),
  cache: v.optional(v.pipe(v.string(), doc("Prediction cache and extracted runtime libraries.")), "cache"),
  logs: v.optional(v.pipe(v.string(), doc("JSON-lines log files.")), "logs"),
  state: v.optional(v.pipe(v.string(), doc("SQLite state database folder.")), "state"),
});

const Models = v.strictObject({
  keep_versions: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(1),
      doc(
        "Versions kept besides the active one; older ones are pruned at every version added and every " +
          "activation (never the rollback target, a version being deployed, or the newest fleet update " +
          "waiting for activation).",
      ),
    ),
    3,
  ),
});

const History = v.strictObject({
  run_folders: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(0),
      doc(
        "Run folders (model, run.json, checkpoints) kept per job and key besides the latest successful run's; older " +
          "ones are deleted after each run.",
      ),
    ),
    5,
  ),
  keep_days: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(1),
      doc("Run records and events older than this leave the state database (runs whose model is in the store stay)."),
    ),
    90,
  ),
});

const Logging = v.strictObject({
  level: v.optional(v.picklist(["debug", "info", "warn", "error"]), "info"),
  file: v.optional(v.pipe(v.string(), doc("Log file name under paths.logs (JSON lines).")), "edgetrain.log"),
  max_size_mb: v.optional(
    v.pipe(
      v.number(),
      v.minValue(0.01),
      doc("Past this size the log file is renamed to <file>.1 and a new one started."),
    ),
    10,
  ),
  keep_files: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(1),
      doc("Rotated log files kept (<file>.1 … .N); the oldest is dropped."),
    ),
    3,
  ),
});

const Defaults = v.strictObject({
  strategies: v.optional(
    v.pipe(
      v.record(v.string(), PluginOptions),
      doc("Options every job of a strategy starts from, e.g. fewer trees on small devices."),
    ),
    {},
  ),
});

const Converters = v.pipe(
  v.record(v.string(), PluginOptions),
  doc(
    "Options of each converter by name (`scikit-learn: { python: /opt/venv/bin/python3 }`): `edgetrain models " +
      "add` of a .pkl, .pt or .keras file.",
  ),
);

export const ProfileSchema = v.strictObject({
  $schema: v.optional(v.string()),
  extends: v.optional(v.pipe(v.string(), doc("Profile this one overrides: a built-in name or a file path."))),
  device: v.optional(Device, {}),
  paths: v.optional(Paths, {}),
  plugins_dir: v.optional(
    v.pipe(v.string(), doc("User plugins (.ts/.js files) loaded at start; relative to home.")),
    "plugins",
  ),
  governor: v.optional(Governor, {}),
  conflicts: v.optional(Conflicts, {}),
  jobs: v.optional(
    v.record(v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9._-]*$/, "a job name of [a-z0-9._-]")), JobSchema),
    {},
  ),
  defaults: v.optional(Defaults, {}),
  converters: v.optional(Converters, {}),
  usage: v.optional(Usage, {}),
  models: v.optional(Models, {}),
  history: v.optional(History, {}),
  inference: v.optional(Inference, {}),
  cache: v.optional(Cache, {}),
  api: v.optional(Api, {}),
  logging: v.optional(Logging, {}),
  fleet: v.optional(
    v.pipe(Fleet, doc("Membership of a fleet managed by an edgetrain hub; left out, the device stands alone.")),
  ),
  hub: v.optional(v.pipe(Hub, doc("How `edgetrain hub` runs, when this profile is the hub's; a daemon ignores it."))),
});

export type ProfileInput = v.InferInput<typeof ProfileSchema>;
export type Profile = v.InferOutput<typeof ProfileSchema>;
export type Job = v.InferOutput<typeof JobSchema>;
export type { FleetConfig } from "./fleet-schema.ts";
export type { HubConfig } from "./hub-schema.ts";
export type { PluginStep };
