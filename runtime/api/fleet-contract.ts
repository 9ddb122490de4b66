/**
 * The fleet hub's HTTP API (`edgetrain hub`) as its clients see it: what each route under /v1/fleet/
 * answers, inferred from fleet-response-schemas.ts, which GET /openapi of the hub converts too. Types
 * only; contract.ts re-exports them so that the TUI can show a hub without importing the runtime.
 * docs/fleet.md tells the same in words.
 */
import type { InferOutput } from "valibot";
import type { HubAddress } from "../fleet/hub/hub.ts";
import type * as schema from "./fleet-response-schemas.ts";

export type { HubApp } from "../fleet/hub/hub-app.ts";
export type { HubAddress };

/** `GET /health`. */
export type HubHealth = InferOutput<typeof schema.HubHealth>;
/** `GET /v1/fleet/devices[?group=G&online=true|false&model=M&version=N]`, by id. */
export type FleetDeviceList = InferOutput<typeof schema.FleetDeviceList>;
export type FleetDevice = InferOutput<typeof schema.FleetDevice>;
/** `GET /v1/fleet/devices/:id`: what it registered, its latest heartbeats (newest first), its deployments. */
export type FleetDeviceDetail = InferOutput<typeof schema.FleetDeviceDetail>;
/** One version announced to one device, and what the device answered. */
export type Deployment = InferOutput<typeof schema.Deployment>;
/** `POST /v1/fleet/models/:name` (201): a version the hub took in. */
export type FleetModelVersion = InferOutput<typeof schema.FleetModelVersion>;
/** `GET /v1/fleet/devices/:id/runs`: runs training there now, most recent first: heartbeat, checkpoints, log tail. */
export type FleetLiveRuns = InferOutput<typeof schema.FleetLiveRuns>;
/** `GET /v1/fleet/models`: every version, with how many devices run it. */
export type FleetModelList = InferOutput<typeof schema.FleetModelList>;
/** `GET /v1/fleet/models/:name/scores[?version=N&limit=K]`: devices' score summaries, and the fleet's per version. */
export type FleetModelScores = InferOutput<typeof schema.FleetModelScores>;
export type FleetScoreSummary = InferOutput<typeof schema.FleetScoreSummary>;
/** `POST /v1/fleet/rollouts` and `/v1/fleet/rollbacks` (201), `POST /v1/fleet/rollouts/:id/pause|resume|abort`. */
export type FleetRollout = InferOutput<typeof schema.FleetRollout>;
/** `GET /v1/fleet/rollouts`, newest first. */
export type FleetRolloutList = InferOutput<typeof schema.FleetRolloutList>;
/** `GET /v1/fleet/rollouts/:id`: with each device's wave and state. */
export type FleetRolloutDetail = InferOutput<typeof schema.FleetRolloutDetail>;
export type RolloutTarget = InferOutput<typeof schema.RolloutTarget>;
/** `POST /v1/fleet/commands` (201): the signed command as sent. */
export type FleetCommand = InferOutput<typeof schema.DeviceCommand>;
/** `POST /api/v1/edge-devices/register` (HTTP transport). */
export type DeviceRegistered = InferOutput<typeof schema.DeviceRegistered>;
/** `POST /api/v1/edge-devices/:device/reports` (HTTP transport): the confirmation. */
export type ReportsAccepted = InferOutput<typeof schema.ReportsAccepted>;
/** `GET /v1/fleet/commands/:id`. */
export type FleetCommandState = InferOutput<typeof schema.FleetCommandState>;
