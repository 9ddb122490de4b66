import * as v from "valibot";
import { DeviceCommand, DeviceInfo, Heartbeat, HeartbeatAnswer } from "../fleet/protocol.ts";

/**
 * What every route of the fleet hub answers, as valibot schemas, like response-schemas.ts for the daemon:
 * fleet-contract.ts infers its types from them and the hub's OpenAPI document converts them, so the two
 * cannot drift apart. The hub's routes are typed with the contract, so the compiler holds them to it.
 */

const Text = v.string();
const Count = v.number();
const Metrics = v.pipe(v.record(v.string(), v.number()), v.description("Metric name to value."));
const UnixMs = (what: string) => v.pipe(v.number(), v.description(`${what}, in milliseconds since 1970 (UTC).`));
const Maybe = <T extends v.GenericSchema>(schema: T) => v.nullable(schema);

export { DeviceCommand, HeartbeatAnswer };

export const HubHealth = v.object({ ok: v.literal(true) });

export const FleetDevice = v.object({
  id: Text,
  name: Maybe(Text),
  location: Maybe(Text),
  groups: v.array(Text),
  transport: v.pipe(v.picklist(["mqtt", "http"]), v.description("How the device talks to the hub.")),
  registered: v.pipe(
    v.boolean(),
    v.description("Whether it sent its info; one heard only in heartbeats or a status is never in a rollout."),
  ),
  online: v.pipe(
    v.boolean(),
    v.description("From its retained status (MQTT), or a heartbeat in the last 90 s (HTTP)."),
  ),
  status_at: Maybe(UnixMs("When it went online or offline")),
  registered_at: UnixMs("When the hub first heard of it"),
  last_heartbeat_at: Maybe(UnixMs("Its last heartbeat")),
  models: v.array(
    v.object({
      model: Text,
      version: v.pipe(
        Maybe(Count),
        v.description(
          "The hub's number for the version it runs; null for one trained or imported on the device, or none.",
        ),
      ),
      local_version: v.pipe(Maybe(Count), v.description("The device's own number for it, which may differ.")),
      metrics: Maybe(Metrics),
    }),
  ),
});
export const FleetDeviceList = v.object({ devices: v.pipe(v.array(FleetDevice), v.description("By id.")) });

const TARGET_STATES = [
  "waiting",
  "announced",
  "verified",
  "activated",
  "rejected",
  "failed",
  "rolled_back",
  "cancelled",
] as const;
const TargetState = v.picklist(TARGET_STATES);

export const RolloutTarget = v.object({
  device: Text,
  wave: v.pipe(Count, v.description("The wave the device falls in, from 1.")),
  state: TargetState,
  reason: Maybe(Text),
  announced_at: Maybe(UnixMs("When its wave announced the version to it")),
  reported_at: Maybe(UnixMs("When it reported")),
});
const Kind = v.picklist(["publish", "rollback"]);
export const Deployment = v.object({
  ...RolloutTarget.entries,
  rollout: Text,
  model: Text,
  version: Count,
  kind: Kind,
});

export const FleetHeartbeat = v.object({ ...Heartbeat.entries, received_at: UnixMs("When the hub received it") });
export const FleetDeviceDetail = v.object({
  ...FleetDevice.entries,
  info: v.pipe(Maybe(DeviceInfo), v.description("What it registered: inventory, groups, versions, models.")),
  heartbeats: v.pipe(v.array(FleetHeartbeat), v.description("The latest, newest first.")),
  deployments: v.array(Deployment),
});

export const FleetLiveRun = v.object({
  device: Text,
  run: Text,
  heard_at: UnixMs("When the hub last heard of it"),
  heartbeat: Maybe(v.record(v.string(), v.unknown())),
  state: Maybe(v.record(v.string(), v.unknown())),
  checkpoints: v.array(v.record(v.string(), v.unknown())),
  log: v.pipe(
    v.array(v.object({ at: Text, data: v.record(v.string(), v.unknown()) })),
    v.description("The trainer's latest log lines, oldest first."),
  ),
});
export const FleetLiveRuns = v.object({ runs: v.array(FleetLiveRun) });

export const FleetModelVersion = v.object({
  model: Text,
  version: Count,
  size: v.pipe(Count, v.description("Bytes.")),
  sha256: Text,
  task: v.picklist(["classification", "regression"]),
  feature_names: v.array(Text),
  classes: Maybe(v.array(Text)),
  created_at: UnixMs("When the hub took it in"),
});
export const FleetModelList = v.object({
  models: v.array(
    v.object({ ...FleetModelVersion.entries, devices: v.pipe(Count, v.description("Devices running it.")) }),
  ),
});

const ScoreValues = v.pipe(
  v.object({ count: Count, mean: v.number(), std: v.number(), min: v.number(), max: v.number() }),
  v.description("Regression: the predictions' count, mean, standard deviation, minimum and maximum."),
);
const ScoreClasses = v.pipe(
  v.record(v.string(), Count),
  v.description("Classification: rows per predicted class (a device sends its 32 most frequent)."),
);
const OtherRows = v.pipe(Count, v.description("Rows predicted as classes left out of `classes`."));
export const FleetScoreSummary = v.object({
  report: v.pipe(Text, v.description("The score report's id.")),
  run: Text,
  job: Text,
  key: Maybe(Text),
  version: v.pipe(
    Maybe(Count),
    v.description("The hub's number for the version that scored; null for one trained or imported on the device."),
  ),
  local_version: v.pipe(Count, v.description("The device's own number for it, which may differ.")),
  at: UnixMs("When the device scored"),
  received_at: UnixMs("When the hub received it"),
  rows: Count,
  files: v.pipe(Count, v.description("Data files scored.")),
  skipped: v.pipe(Count, v.description("Rows left out under on_bad_cell: skip-row.")),
  classes: Maybe(ScoreClasses),
  other_rows: Maybe(OtherRows),
  values: Maybe(ScoreValues),
});
export const FleetModelScores = v.object({
  model: Text,
  devices: v.pipe(
    v.array(v.object({ device: Text, summaries: v.pipe(v.array(FleetScoreSummary), v.description("Newest first.")) })),
    v.description("By id: each device's latest score summaries of the model."),
  ),
  versions: v.pipe(
    v.array(
      v.object({
        version: v.pipe(Count, v.description("The hub's number.")),
        devices: v.pipe(Count, v.description("Devices that reported scoring with it.")),
        runs: Count,
        rows: Count,
        skipped: Count,
        classes: Maybe(ScoreClasses),
        other_rows: Maybe(OtherRows),
        values: Maybe(ScoreValues),
      }),
    ),
    v.description(
      "By version of the hub's: the fleet's histogram or statistics over every summary the hub keeps of it.",
    ),
  ),
});

export const FleetRollout = v.object({
  id: Text,
  model: Text,
  version: Count,
  kind: Kind,
  device_group: Maybe(Text),
  waves: v.pipe(v.array(v.number()), v.description("Cumulative shares of the devices, the last 1.")),
  max_failures: v.pipe(v.number(), v.description("Share of failed reports past which the rollout halts.")),
  wave_timeout_ms: Count,
  wave: v.pipe(Count, v.description("The current wave, from 1.")),
  wave_started_at: Maybe(UnixMs("When the current wave started")),
  wave_resumed_at: Maybe(
    UnixMs("When a person last resumed the rollout during the current wave: its wave timeout counts from then"),
  ),
  state: v.picklist(["running", "paused", "halted", "aborted", "completed"]),
  reason: Maybe(v.pipe(Text, v.description("Why it halted or was aborted."))),
  created_at: UnixMs("When it was started"),
  ended_at: Maybe(UnixMs("When it ended")),
  counts: v.object(
    Object.fromEntries(TARGET_STATES.map((state) => [state, Count])) as Record<
      (typeof TARGET_STATES)[number],
      typeof Count
    >,
  ),
  halts: v.pipe(
    v.array(
      v.object({
        at: UnixMs("When it halted"),
        reason: v.pipe(Text, v.description("Why.")),
        resumed_at: Maybe(UnixMs("When a person resumed it")),
      }),
    ),
    v.description("Each time it halted, oldest first; a resumed rollout keeps them."),
  ),
});
export const FleetRolloutList = v.object({ rollouts: v.pipe(v.array(FleetRollout), v.description("Newest first.")) });
export const FleetRolloutDetail = v.object({ ...FleetRollout.entries, devices: v.array(RolloutTarget) });

export const FleetCommandState = v.object({
  id: Text,
  device: Text,
  command: Text,
  state: v.picklist(["pending", "sent", "done", "failed"]),
  result: v.pipe(v.unknown(), v.description("What the device answered; null until it did.")),
  created_at: UnixMs("When it was issued"),
  expires_at: UnixMs("When a device stops taking it"),
});

export const DeviceRegistered = v.object({ registered: v.literal(true), device: Text });
export const ReportsAccepted = v.object({ accepted: v.literal(true) });
