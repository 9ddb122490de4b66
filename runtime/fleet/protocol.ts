/**
 * The fleet's wire protocol, shared by the device agent and the hub: MQTT topics, and the messages on
 * them (the HTTP transport carries the same messages). Every message from the network is parsed with
 * these schemas before it is used; announcements and commands must also carry a hub signature
 * (signing.ts) over all their other fields.
 *
 * Topics, all under one device's id so that a broker ACL can confine a device to its own
 * (deploy/mosquitto/acl):
 *   edgetrain/devices/ID/status       device → hub, retained: online, or offline as the broker's last will
 *   edgetrain/devices/ID/info         device → hub, retained: registration (inventory, models), on every connect
 *   edgetrain/devices/ID/heartbeat    device → hub, QoS 0: every fleet.heartbeat_interval, at most 2 KB
 *   edgetrain/devices/ID/reports      device → hub, QoS 1: OTA outcomes, command results, finished runs, score
 *                                     summaries; each with an id
 *   edgetrain/devices/ID/runs         device → hub, QoS 0: a live run's heartbeat, checkpoints and log lines,
 * rate-limited
 *   edgetrain/devices/ID/models/NAME  hub → device, retained: the version the device should run (signed announcement)
 *   edgetrain/devices/ID/commands     hub → device, QoS 1, persistent session: signed commands
 */
import * as v from "valibot";

export const TOPIC_ROOT = "edgetrain/devices";

export const topics = {
  status: (device: string) => `${TOPIC_ROOT}/${device}/status`,
  info: (device: string) => `${TOPIC_ROOT}/${device}/info`,
  heartbeat: (device: string) => `${TOPIC_ROOT}/${device}/heartbeat`,
  reports: (device: string) => `${TOPIC_ROOT}/${device}/reports`,
  runs: (device: string) => `${TOPIC_ROOT}/${device}/runs`,
  model: (device: string, model: string) => `${TOPIC_ROOT}/${device}/models/${model}`,
  models: (device: string) => `${TOPIC_ROOT}/${device}/models/+`,
  commands: (device: string) => `${TOPIC_ROOT}/${device}/commands`,
  /** What the hub subscribes to: everything every device sends. */
  fromDevices: [
    `${TOPIC_ROOT}/+/status`,
    `${TOPIC_ROOT}/+/info`,
    `${TOPIC_ROOT}/+/heartbeat`,
    `${TOPIC_ROOT}/+/reports`,
    `${TOPIC_ROOT}/+/runs`,
  ],
} as const;

/** The device id and the kind of message a topic carries; undefined for topics outside the protocol. */
export function parseTopic(topic: string): { device: string; kind: string; model?: string } | undefined {
  const parts = topic.split("/");
  if (parts.length < 4 || `${parts[0]}/${parts[1]}` !== TOPIC_ROOT) return undefined;
  const [, , device, kind, model] = parts;
  if (!device || !kind) return undefined;
  return model === undefined ? { device, kind } : { device, kind, model };
}

/** Device ids, model names: safe as one MQTT topic level and one path segment. */
const Name = v.pipe(v.string(), v.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, "letters, digits, _ . - only"));
const Time = v.pipe(v.string(), v.isoTimestamp());
const Ratio = v.pipe(v.number(), v.minValue(0), v.maxValue(1));

export const DeviceStatus = v.object({ device: Name, state: v.picklist(["online", "offline"]), at: v.optional(Time) });

/**
 * The hub's number for the version a device runs, beside the device's own (`active`, `version`): set when that
 * version's file came from a fleet update, null for one trained or imported on the device. Absent from devices
 * older than the field, whose own number the hub then takes for its own.
 */
const FleetVersion = v.optional(v.nullable(v.pipe(v.number(), v.integer(), v.minValue(1))));

export const ModelOnDevice = v.object({
  model: Name,
  active: v.optional(v.number()),
  fleet_version: FleetVersion,
  versions: v.optional(v.array(v.number())),
  metrics: v.optional(v.record(v.string(), v.number())),
});

export const DeviceInfo = v.object({
  device: Name,
  name: v.string(),
  location: v.optional(v.string()),
  groups: v.array(v.string()),
  edgetrain_version: v.string(),
  profile: v.string(),
  /**
   * systeminformation's one-off facts and what `edgetrain check` knows (Jetson, L4T, glibc, CUDA, ONNX Runtime
   * providers).
   */
  hardware: v.record(v.string(), v.unknown()),
  models: v.array(ModelOnDevice),
  at: Time,
});

export const Heartbeat = v.object({
  device: Name,
  at: Time,
  seq: v.number(),
  /** Absent sensors are absent, never 0. */
  cpu_ratio: v.optional(Ratio),
  memory_ratio: v.optional(Ratio),
  disk_ratio: v.optional(Ratio),
  gpu_ratio: v.optional(Ratio),
  gpu_memory_ratio: v.optional(Ratio),
  temperature_c: v.optional(v.number()),
  governor: v.optional(v.string()),
  runs: v.optional(
    v.array(v.object({ run: v.string(), job: v.string(), key: v.optional(v.string()), state: v.string() })),
  ),
  models: v.optional(
    v.record(
      v.string(),
      v.object({
        version: v.number(),
        fleet_version: FleetVersion,
        metrics: v.optional(v.record(v.string(), v.number())),
      }),
    ),
  ),
  predictions: v.optional(
    v.object({
      total: v.number(),
      cache_hit_ratio: v.optional(Ratio),
      /**
       * Since the last heartbeat, per model: how many, and the histogram of predicted classes (for drift at the hub).
       */
      by_model: v.optional(
        v.record(v.string(), v.object({ count: v.number(), classes: v.optional(v.record(v.string(), v.number())) })),
      ),
    }),
  ),
});
export const HEARTBEAT_MAX_BYTES = 2048;

/** hub → device: the version of a model the device should run. Signed over every field but `signature`. */
export const ModelAnnouncement = v.object({
  type: v.literal("model.announce"),
  device: Name,
  rollout: v.string(),
  model: Name,
  version: v.pipe(v.number(), v.integer(), v.minValue(1)),
  size: v.pipe(v.number(), v.integer(), v.minValue(1)),
  sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
  /** Carries the device's own download token. */
  url: v.pipe(v.string(), v.url()),
  task: v.picklist(["classification", "regression"]),
  feature_names: v.array(v.string()),
  classes: v.optional(v.array(v.string())),
  issued_at: Time,
  signature: v.string(),
});

export const CommandName = v.picklist(["train", "activate", "rollback", "logs"]);

/** hub → device. Signed; `device` and `expires_at` keep it from being replayed elsewhere or later. */
export const DeviceCommand = v.object({
  type: v.literal("command"),
  id: v.string(),
  device: Name,
  command: CommandName,
  /** train: {job, key?}; activate: {model, version}; rollback: {model}; logs: {lines?}. */
  args: v.record(v.string(), v.unknown()),
  issued_at: Time,
  expires_at: Time,
  signature: v.string(),
});

export const OtaOutcome = v.picklist(["verified", "activated", "rejected", "failed", "rolled_back"]);

/** Classes a score report's histogram lists: a label set is bounded, and so is the report. */
export const SCORE_MAX_CLASSES = 32;
export const SCORE_MAX_LABEL = 128;
const Count = v.pipe(v.number(), v.integer(), v.minValue(0));
const ClassLabel = v.pipe(v.string(), v.maxLength(SCORE_MAX_LABEL));
const Finite = v.pipe(v.number(), v.finite());

/** A score run's summary (runtime/batch-scoring/score-summary.ts) as a device reports it, for drift detection. */
export const ScoreReport = v.object({
  kind: v.literal("score"),
  id: v.string(),
  device: Name,
  at: Time,
  run: v.string(),
  job: v.string(),
  key: v.optional(v.string()),
  model: Name,
  /** The device's own number for the version that scored. */
  version: v.pipe(v.number(), v.integer(), v.minValue(1)),
  fleet_version: FleetVersion,
  rows: Count,
  files: Count,
  /** Classification: rows per predicted class, the most frequent SCORE_MAX_CLASSES. */
  classes: v.optional(
    v.pipe(
      v.record(ClassLabel, Count),
      v.check((classes) => Object.keys(classes).length <= SCORE_MAX_CLASSES, `at most ${SCORE_MAX_CLASSES} classes`),
    ),
  ),
  /** Rows predicted as classes left out of `classes`. */
  other_rows: v.optional(Count),
  /** Regression: the predictions' spread. */
  values: v.optional(v.object({ count: Count, mean: Finite, std: Finite, min: Finite, max: Finite })),
  skipped: Count,
});

/** device → hub, QoS 1, written to the device's outbox first: the hub drops an id it has seen. */
export const DeviceReport = v.variant("kind", [
  v.object({
    kind: v.literal("ota"),
    id: v.string(),
    device: Name,
    at: Time,
    rollout: v.string(),
    model: Name,
    version: v.number(),
    /** The device's own number for the version, once stored there (absent from older devices). */
    local_version: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
    outcome: OtaOutcome,
    reason: v.optional(v.string()),
    /** The gate's scores when it rejected: candidate and active. */
    scores: v.optional(v.record(v.string(), v.unknown())),
  }),
  v.object({
    kind: v.literal("command"),
    id: v.string(),
    device: Name,
    at: Time,
    command_id: v.string(),
    command: CommandName,
    ok: v.boolean(),
    result: v.optional(v.unknown()),
    error: v.optional(v.object({ code: v.string(), message: v.string() })),
  }),
  v.object({
    kind: v.literal("run"),
    id: v.string(),
    device: Name,
    at: Time,
    run: v.string(),
    job: v.string(),
    key: v.optional(v.string()),
    state: v.string(),
    model: v.optional(v.string()),
    version: v.optional(v.number()),
    metrics: v.optional(v.record(v.string(), v.number())),
    error: v.optional(v.string()),
  }),
  ScoreReport,
]);

/** device → hub, QoS 0: a live run, followed from the hub. */
export const RunUpdate = v.object({
  device: Name,
  run: v.string(),
  at: Time,
  event: v.picklist(["heartbeat", "checkpoint", "log", "state"]),
  data: v.record(v.string(), v.unknown()),
});

/** HTTP transport: the heartbeat's answer lists what waits for the device. */
export const HeartbeatAnswer = v.object({ pending: v.array(ModelAnnouncement), commands: v.array(DeviceCommand) });

/**
 * HTTP transport, for sites without a broker (`fleet.transport: http`), in the shape such backends use;
 * `Authorization: Bearer <fleet.api_key>` on each:
 *   POST /api/v1/edge-devices/register            DeviceInfo → 200
 *   POST /api/v1/edge-devices/{device}/heartbeat  Heartbeat → HeartbeatAnswer
 *   POST /api/v1/edge-devices/{device}/reports    DeviceReport → 200 (the confirmation)
 *   GET  the announcement's url (Range supported) → the model file
 */
export const httpRoutes = {
  register: "/api/v1/edge-devices/register",
  heartbeat: (device: string) => `/api/v1/edge-devices/${device}/heartbeat`,
  reports: (device: string) => `/api/v1/edge-devices/${device}/reports`,
} as const;

export type DeviceStatus = v.InferOutput<typeof DeviceStatus>;
export type DeviceInfo = v.InferOutput<typeof DeviceInfo>;
export type Heartbeat = v.InferOutput<typeof Heartbeat>;
export type ModelAnnouncement = v.InferOutput<typeof ModelAnnouncement>;
export type DeviceCommand = v.InferOutput<typeof DeviceCommand>;
export type DeviceReport = v.InferOutput<typeof DeviceReport>;
export type ScoreReport = v.InferOutput<typeof ScoreReport>;
export type RunUpdate = v.InferOutput<typeof RunUpdate>;
export type HeartbeatAnswer = v.InferOutput<typeof HeartbeatAnswer>;
export type OtaOutcome = v.InferOutput<typeof OtaOutcome>;
