/**
 * The fleet hub's HTTP API (`edgetrain hub`) as its clients see it: what each route under /v1/fleet/
 * answers. Types only; contract.ts re-exports them so that the TUI can show a hub without importing the
 * runtime. docs/fleet.md tells the same in words.
 */
import type { DeviceCommand, DeviceInfo, Heartbeat } from "../fleet/protocol.ts";
import type { CommandRow } from "../fleet/hub/commands.ts";
import type { HubAddress } from "../fleet/hub/hub.ts";
import type { LiveRun } from "../fleet/hub/live-runs.ts";
import type { ModelFile } from "../fleet/hub/model-files.ts";
import type { DeviceRow } from "../fleet/hub/registry.ts";
import type { Deployment, RolloutRow, RolloutTarget } from "../fleet/hub/rollout-records.ts";

export type { HubApp } from "../fleet/hub/hub-app.ts";
export type { Deployment, HubAddress, RolloutTarget };

/** `GET /v1/fleet/devices[?group=G&online=true|false&model=M&version=N]`, by id. */
export interface FleetDeviceList {
  devices: FleetDevice[];
}
export type FleetDevice = DeviceRow;
/** `GET /v1/fleet/devices/:id`: what it registered, its latest heartbeats (newest first), its deployments. */
export type FleetDeviceDetail = DeviceRow & {
  info: DeviceInfo | null;
  heartbeats: Array<Heartbeat & { received_at: number }>;
  deployments: Deployment[];
};
/** `POST /v1/fleet/models/:name` (201): a version the hub took in. */
export type FleetModelVersion = Omit<ModelFile, "file">;
/** `GET /v1/fleet/devices/:id/runs`: runs training there now, most recent first: heartbeat, checkpoints, log tail. */
export interface FleetLiveRuns {
  runs: LiveRun[];
}
/** `GET /v1/fleet/models`: every version, with how many devices run it. */
export interface FleetModelList {
  models: Array<FleetModelVersion & { devices: number }>;
}
/** `POST /v1/fleet/rollouts` and `/v1/fleet/rollbacks` (201), `POST /v1/fleet/rollouts/:id/pause|resume|abort`. */
export type FleetRollout = RolloutRow;
/** `GET /v1/fleet/rollouts`, newest first. */
export interface FleetRolloutList {
  rollouts: FleetRollout[];
}
/** `GET /v1/fleet/rollouts/:id`: with each device's wave and state. */
export type FleetRolloutDetail = RolloutRow & { devices: RolloutTarget[] };
/** `POST /v1/fleet/commands` (201): the signed command as sent. */
export type FleetCommand = DeviceCommand;
/** `GET /v1/fleet/commands/:id`. */
export type FleetCommandState = CommandRow;
