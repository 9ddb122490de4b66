import type { ModelAnnouncement } from "../protocol.ts";
import type { Registry } from "./registry.ts";

export type RolloutState = "running" | "paused" | "halted" | "aborted" | "completed";
export type TargetState =
  | "waiting"
  | "announced"
  | "verified"
  | "activated"
  | "rejected"
  | "failed"
  | "rolled_back"
  | "cancelled";

export const FAILED: readonly TargetState[] = ["rejected", "failed", "rolled_back"];
export const REPORTED: readonly TargetState[] = ["verified", "activated", ...FAILED];

export interface RolloutRow {
  id: string;
  model: string;
  version: number;
  kind: "publish" | "rollback";
  device_group: string | null;
  waves: number[];
  max_failures: number;
  wave_timeout_ms: number;
  wave: number;
  wave_started_at: number | null;
  /** When a person last resumed it during the current wave: its timeout counts from then, not from its start. */
  wave_resumed_at: number | null;
  state: RolloutState;
  reason: string | null;
  created_at: number;
  ended_at: number | null;
  counts: Record<TargetState, number>;
  /** Each time it halted, oldest first: a resumed rollout keeps why it stopped. */
  halts: RolloutHalt[];
}

/** A halt: when, why (the rollout's reason then), and when a person resumed it (null: not yet). */
export interface RolloutHalt {
  at: number;
  reason: string;
  resumed_at: number | null;
}

export interface RolloutTarget {
  device: string;
  wave: number;
  state: TargetState;
  reason: string | null;
  announced_at: number | null;
  reported_at: number | null;
}

/** One version announced to one device, and what the device answered. */
export interface Deployment extends RolloutTarget {
  rollout: string;
  model: string;
  version: number;
  kind: "publish" | "rollback";
}

/** Where announcements go: the retained topic of each device and model (the HTTP transport reads them back). */
export type Announce = (announcement: ModelAnnouncement) => void;
/** What the registry holds of rollouts, as the API and the engine (rollouts.ts) read it. */
export class RolloutRecords {
  constructor(protected readonly registry: Registry) {}

  protected get db() {
    return this.registry.db;
  }

  get(id: string): RolloutRow | undefined {
    const row = this.db
      .query<Omit<RolloutRow, "waves" | "counts" | "halts"> & { waves: string; halts: string | null }, [string]>(
        "SELECT * FROM rollouts WHERE id = ?",
      )
      .get(id);
    if (!row) return undefined;
    const counts = Object.fromEntries(
      ["waiting", "announced", ...REPORTED, "cancelled"].map((state) => [state, 0]),
    ) as Record<TargetState, number>;
    for (const { state, n } of this.db
      .query<{ state: TargetState; n: number }, [string]>(
        "SELECT state, count(*) AS n FROM rollout_devices WHERE rollout = ? GROUP BY state",
      )
      .all(id))
      counts[state] = n;
    const halts = JSON.parse(row.halts ?? "[]") as RolloutHalt[];
    return { ...row, waves: JSON.parse(row.waves) as number[], counts, halts };
  }

  list(limit = 50): RolloutRow[] {
    return this.db
      .query<{ id: string }, [number]>("SELECT id FROM rollouts ORDER BY created_at DESC, rowid DESC LIMIT ?")
      .all(limit)
      .map(({ id }) => this.get(id)!);
  }

  targets(id: string): RolloutTarget[] {
    return this.db
      .query<RolloutTarget, [string]>(
        `SELECT device, wave, state, reason, announced_at, reported_at FROM rollout_devices
         WHERE rollout = ? ORDER BY wave, device`,
      )
      .all(id);
  }

  /** The device's deployments, newest first: what was announced to it and what it answered. */
  deployments(device: string, limit = 20): Deployment[] {
    return this.db
      .query<Deployment, [string, number]>(
        `SELECT r.id AS rollout, r.model, r.version, r.kind,
           d.device, d.wave, d.state, d.reason, d.announced_at, d.reported_at
         FROM rollout_devices d JOIN rollouts r ON r.id = d.rollout WHERE d.device = ? AND d.state != 'waiting'
         ORDER BY coalesce(d.announced_at, r.created_at) DESC LIMIT ?`,
      )
      .all(device, limit);
  }

  /** Announcements the device has not answered yet, the newest per model: the HTTP transport's pending list. */
  pendingFor(device: string): ModelAnnouncement[] {
    const rows = this.db
      .query<{ announcement: string }, [string]>(
        `SELECT d.announcement FROM rollout_devices d JOIN rollouts r ON r.id = d.rollout
         WHERE d.device = ? AND d.state = 'announced' AND d.announcement IS NOT NULL ORDER BY d.announced_at DESC`,
      )
      .all(device)
      .map((row) => JSON.parse(row.announcement) as ModelAnnouncement);
    const seen = new Set<string>();
    return rows.filter((announcement) => !seen.has(announcement.model) && seen.add(announcement.model));
  }

  /**
   * Announcements not yet answered, oldest first, of rollouts that may go on: a halted or paused one starts no
   * wave, but the devices of its current wave may still report. One a newer announcement to the device for the
   * same model followed is left out: published again, it would take the model back.
   */
  unanswered(): ModelAnnouncement[] {
    return this.db
      .query<{ announcement: string }, []>(
        `SELECT d.announcement FROM rollout_devices d JOIN rollouts r ON r.id = d.rollout
         WHERE r.state IN ('running','paused','halted') AND d.state = 'announced'
           AND NOT EXISTS (SELECT 1 FROM rollout_devices n JOIN rollouts nr ON nr.id = n.rollout
             WHERE n.device = d.device AND nr.model = r.model AND n.announced_at > d.announced_at)
         ORDER BY d.announced_at`,
      )
      .all()
      .map((row) => JSON.parse(row.announcement) as ModelAnnouncement);
  }

  stateCounts(): Record<string, number> {
    const rows = this.db
      .query<{ state: string; n: number }, []>("SELECT state, count(*) AS n FROM rollouts GROUP BY state")
      .all();
    return Object.fromEntries(rows.map((row) => [row.state, row.n]));
  }

  /** Why the rollout is past `limit` (a share of the devices announced so far that failed); undefined if within. */
  protected pastLimit(rollout: RolloutRow, limit = rollout.max_failures): string | undefined {
    const count = (states: readonly TargetState[]) => states.reduce((sum, state) => sum + rollout.counts[state], 0);
    const announced = count(["announced", ...REPORTED]);
    const failures = count(FAILED);
    if (announced === 0 || failures / announced <= limit) return undefined;
    const share = ((failures / announced) * 100).toFixed(1);
    return (
      `${failures} of ${announced} devices failed (${share}%), over the ${(limit * 100).toFixed(1)}% allowed; ` +
      this.lastFailure(rollout.id)
    );
  }

  private lastFailure(id: string): string {
    const row = this.db
      .query<{ device: string; state: string; reason: string | null }, [string]>(
        `SELECT device, state, reason FROM rollout_devices
         WHERE rollout = ? AND state IN ('rejected','failed','rolled_back') ORDER BY reported_at DESC LIMIT 1`,
      )
      .get(id);
    return row ? `last: ${row.device} ${row.state.replace("_", " ")}${row.reason ? `: ${row.reason}` : ""}` : "";
  }
}
