import type { Database } from "bun:sqlite";
import type { DeviceInfo } from "../protocol.ts";

/** The hub registry's devices as the API lists them, read from its database. */

export interface DeviceFilter {
  group?: string;
  online?: boolean;
  model?: string;
  /** With `model`: only devices that run this version of it, by the hub's number. */
  version?: number;
  /** Only devices that sent (true) or never sent (false) their `info`. */
  registered?: boolean;
}

export interface DeviceRow {
  id: string;
  name: string | null;
  location: string | null;
  groups: string[];
  transport: "mqtt" | "http";
  /** Whether it sent its `info`: a device only heard in heartbeats or a status is never in a rollout. */
  registered: boolean;
  online: boolean;
  status_at: number | null;
  registered_at: number;
  last_heartbeat_at: number | null;
  /** `version`: the hub's number, null for one trained or imported on the device; `local_version`: the device's. */
  models: Array<{
    model: string;
    version: number | null;
    local_version: number | null;
    metrics: Record<string, number> | null;
  }>;
}

interface RawDevice extends Omit<DeviceRow, "groups" | "online" | "registered" | "models"> {
  groups: string;
  online: number;
  info: string | null;
}

/** The devices that match `filter`, by id. */
export function queryDevices(db: Database, filter: DeviceFilter = {}): DeviceRow[] {
  const where: string[] = [];
  const params: Array<string | number> = [];
  if (filter.group !== undefined) {
    where.push("id IN (SELECT device FROM device_groups WHERE name = ?)");
    params.push(filter.group);
  }
  if (filter.registered !== undefined) where.push(`info IS ${filter.registered ? "NOT " : ""}NULL`);
  if (filter.online !== undefined) {
    where.push("online = ?");
    params.push(filter.online ? 1 : 0);
  }
  if (filter.model !== undefined && filter.version !== undefined) {
    where.push("id IN (SELECT device FROM device_models WHERE model = ? AND version = ?)");
    params.push(filter.model, filter.version);
  } else if (filter.model !== undefined) {
    where.push("id IN (SELECT device FROM device_models WHERE model = ?)");
    params.push(filter.model);
  }
  const columns = "id, name, location, groups, transport, online, status_at, registered_at, last_heartbeat_at, info";
  const sql = `SELECT ${columns} FROM devices${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY id`;
  return db
    .query<RawDevice, Array<string | number>>(sql)
    .all(...params)
    .map((row) => deviceRow(db, row));
}

export function queryDevice(db: Database, id: string): (DeviceRow & { info: DeviceInfo | null }) | undefined {
  const row = db.query<RawDevice, [string]>("SELECT * FROM devices WHERE id = ?").get(id);
  if (!row) return undefined;
  return { ...deviceRow(db, row), info: row.info ? (JSON.parse(row.info) as DeviceInfo) : null };
}

function deviceRow(db: Database, row: RawDevice): DeviceRow {
  const models = db
    .query<{ model: string; version: number | null; local_version: number | null; metrics: string | null }, [string]>(
      "SELECT model, version, local_version, metrics FROM device_models WHERE device = ? ORDER BY model",
    )
    .all(row.id)
    .map((model) => ({
      ...model,
      metrics: model.metrics ? (JSON.parse(model.metrics) as Record<string, number>) : null,
    }));
  return {
    id: row.id,
    name: row.name,
    location: row.location,
    groups: JSON.parse(row.groups) as string[],
    transport: row.transport,
    registered: row.info !== null,
    online: row.online === 1,
    status_at: row.status_at,
    registered_at: row.registered_at,
    last_heartbeat_at: row.last_heartbeat_at,
    models,
  };
}
