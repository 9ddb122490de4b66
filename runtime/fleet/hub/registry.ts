import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { EdgetrainError, messageOf } from "../../errors.ts";
import { migrate } from "../../state/database.ts";
import type { DeviceInfo, DeviceReport, DeviceStatus, Heartbeat } from "../protocol.ts";
import { type DeviceFilter, type DeviceRow, queryDevice, queryDevices } from "./device-rows.ts";
import { type HeartbeatSeries, SqliteHeartbeats } from "./heartbeat-series.ts";
import { registryMigrations } from "./registry-migrations.ts";
import type { RegistryMirror } from "./registry-mirror.ts";
import { ScoreSummaries } from "./score-summaries.ts";

/**
 * The hub's registry: devices, what they said last, their heartbeats as a time series, and the ids of the
 * reports already applied. Heartbeats arrive by the thousand a second, so they are queued and written in
 * one transaction per flush; every read flushes first, so that what was received is what is read.
 */
export class Registry {
  readonly db: Database;
  private queued: Array<[string, number, string]> = [];
  /** HTTP-transport devices heard from in the queued heartbeats, and when. */
  private queuedOnline = new Map<string, number>();

  readonly series: HeartbeatSeries;
  /** What devices' score runs predicted, for drift detection. */
  readonly scores: ScoreSummaries;

  /**
   * `series`: where heartbeats go; by default the registry's own database. `mirror`: PostgreSQL, when it
   * holds the registry and `file` is the hub's working copy (postgres-registry.ts).
   */
  constructor(
    readonly file: string,
    series?: (db: Database) => HeartbeatSeries,
    private readonly mirror?: RegistryMirror,
  ) {
    mkdirSync(join(file, ".."), { recursive: true });
    try {
      this.db = new Database(file, { create: true, strict: true });
      this.db.exec(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
      );
    } catch (error) {
      throw new EdgetrainError("state_failed", `cannot open the hub's registry ${file}: ${messageOf(error)}`, {
        details: { file },
        cause: error,
      });
    }
    migrate(this.db, file, registryMigrations);
    this.series = series ? series(this.db) : new SqliteHeartbeats(this.db);
    this.scores = new ScoreSummaries(this.db);
  }

  static inHome(home: string, series?: (db: Database) => HeartbeatSeries): Registry {
    return new Registry(join(home, "hub.db"), series);
  }

  /** The retained status: online on connect, offline as the broker's last will. */
  recordStatus(status: DeviceStatus, at: number): void {
    this.ensureDevice(status.device, at);
    this.db
      .query("UPDATE devices SET online = ?, status_at = ? WHERE id = ?")
      .run(status.state === "online" ? 1 : 0, at, status.device);
  }

  recordInfo(info: DeviceInfo, transport: "mqtt" | "http", at: number): void {
    this.db.transaction(() => {
      this.ensureDevice(info.device, at);
      this.db
        .query("UPDATE devices SET name = ?, location = ?, groups = ?, info = ?, transport = ? WHERE id = ?")
        .run(
          info.name,
          info.location ?? null,
          JSON.stringify(info.groups),
          JSON.stringify(info),
          transport,
          info.device,
        );
      this.db.query("DELETE FROM device_groups WHERE device = ?").run(info.device);
      for (const group of new Set(info.groups))
        this.db.query("INSERT INTO device_groups (device, name) VALUES (?, ?)").run(info.device, group);
      this.db.query("DELETE FROM device_models WHERE device = ?").run(info.device);
      for (const model of info.models)
        this.setModel(info.device, model.model, running(model.active, model.fleet_version), model.metrics, at);
    })();
  }

  /** Queued until the next flush; `online` for the HTTP transport, whose devices have no last will. */
  recordHeartbeat(heartbeat: Heartbeat, at: number, online = false): void {
    this.queued.push([heartbeat.device, at, JSON.stringify(heartbeat)]);
    if (online) this.queuedOnline.set(heartbeat.device, at);
  }

  /** Writes the queued heartbeats in one transaction, with the devices' last heartbeat and model versions. */
  flush(): number {
    if (this.queued.length === 0) return 0;
    const batch = this.queued;
    const online = this.queuedOnline;
    this.queued = [];
    this.queuedOnline = new Map();
    const last = this.db.query(
      "UPDATE devices SET last_heartbeat_at = max(coalesce(last_heartbeat_at, 0), ?) WHERE id = ?",
    );
    this.db.transaction(() => {
      for (const [device, at, data] of batch) {
        this.ensureDevice(device, at);
        last.run(at, device);
        const models = (JSON.parse(data) as Heartbeat).models ?? {};
        for (const [model, seen] of Object.entries(models))
          this.setModel(device, model, running(seen.version, seen.fleet_version), seen.metrics, at);
      }
      const heard = this.db.query("UPDATE devices SET online = 1, status_at = ? WHERE id = ?");
      for (const [device, at] of online) heard.run(at, device);
      this.series.write(batch);
    })();
    return batch.length;
  }

  /**
   * Devices on the HTTP transport have no last will: one silent for `silenceMs` is offline. Returns their ids.
   */
  markSilent(now: number, silenceMs: number): string[] {
    this.flush();
    return this.db
      .query<{ id: string }, [number, number]>(
        `UPDATE devices SET online = 0, status_at = ?1
         WHERE transport = 'http' AND online = 1 AND coalesce(last_heartbeat_at, registered_at) < ?2 RETURNING id`,
      )
      .all(now, now - silenceMs)
      .map((row) => row.id);
  }

  /**
   * Whether the report is new, recording its id: a report sent again (after a reconnect, or twice by a
   * device that never saw the acknowledgement) is applied once. Call inside the transaction that applies it.
   */
  acceptReport(report: DeviceReport, at: number): boolean {
    const result = this.db
      .query("INSERT OR IGNORE INTO reports (id, device, kind, at, data) VALUES (?, ?, ?, ?, ?)")
      .run(report.id, report.device, report.kind, at, JSON.stringify(report));
    return result.changes > 0;
  }

  /** What the device runs of the model, by the hub's number and its own. */
  setModel(
    device: string,
    model: string,
    version: RunningVersion,
    metrics: Record<string, number> | undefined,
    at: number,
  ): void {
    this.db
      .query(
        `INSERT INTO device_models (device, model, version, local_version, metrics, updated_at)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (device, model) DO UPDATE SET version = excluded.version,
           local_version = excluded.local_version, metrics = coalesce(excluded.metrics, metrics),
           updated_at = excluded.updated_at`,
      )
      .run(device, model, version.hub, version.local, metrics ? JSON.stringify(metrics) : null, at);
  }

  devices(filter: DeviceFilter = {}): DeviceRow[] {
    this.flush();
    return queryDevices(this.db, filter);
  }

  device(id: string): (DeviceRow & { info: DeviceInfo | null }) | undefined {
    this.flush();
    return queryDevice(this.db, id);
  }

  /** The device's latest heartbeats, newest first. */
  async heartbeats(device: string, limit: number): Promise<Array<Heartbeat & { received_at: number }>> {
    this.flush();
    const rows = await this.series.latest(device, limit);
    return rows.map((row) => ({ ...(JSON.parse(row.data) as Heartbeat), received_at: row.at }));
  }

  async heartbeatCount(device?: string): Promise<number> {
    this.flush();
    return this.series.count(device);
  }

  /** Keeps `keepDays` of heartbeats, one a minute per device past the first day. */
  async maintain(now: number, keepDays: number): Promise<{ removed: number; downsampled: number }> {
    this.flush();
    return this.series.maintain(now, keepDays);
  }

  /** Stores the queued heartbeats, and sends the registry's changes to PostgreSQL when it holds the registry. */
  sync(): Promise<void> {
    this.flush();
    return this.mirror?.push(this.db) ?? Promise.resolve();
  }

  /** Everything received is stored first: a change PostgreSQL did not take stays in the copy for the next start. */
  async close(): Promise<void> {
    try {
      this.flush();
      await this.series.close();
      await this.mirror?.drain(this.db);
    } finally {
      await this.mirror?.close();
      this.db.close();
    }
  }

  private ensureDevice(id: string, at: number): void {
    this.db.query("INSERT OR IGNORE INTO devices (id, registered_at) VALUES (?, ?)").run(id, at);
  }
}

/** A model version a device runs, by the hub's number (null: trained or imported there) and the device's. */
export interface RunningVersion {
  hub: number | null;
  local: number | null;
}

/**
 * From a heartbeat or a registration: the device's own number and, from devices that send it, the hub's. An
 * older device sends its own alone, which is the hub's unless a local version took that number first.
 */
function running(local: number | undefined, fleet: number | null | undefined): RunningVersion {
  if (local === undefined) return { hub: null, local: null };
  return { hub: fleet === undefined ? local : fleet, local };
}
