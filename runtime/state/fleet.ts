import type { Database } from "bun:sqlite";

/** A report waiting in the outbox: sent at every connect until the broker (or the hub) acknowledged it. */
export interface OutboxEntry {
  id: string;
  kind: string;
  body: string;
}

export function addToOutbox(db: Database, entry: OutboxEntry, at = Date.now()): void {
  db.query("INSERT OR IGNORE INTO fleet_outbox (id, kind, body, created_at) VALUES (?, ?, ?, ?)").run(
    entry.id,
    entry.kind,
    entry.body,
    at,
  );
}

/** Oldest first: the hub sees outcomes in the order they happened. */
export function outboxEntries(db: Database, limit = 500): OutboxEntry[] {
  return db
    .query<OutboxEntry, [number]>("SELECT id, kind, body FROM fleet_outbox ORDER BY created_at, rowid LIMIT ?")
    .all(limit);
}

export function removeFromOutbox(db: Database, id: string): void {
  db.query("DELETE FROM fleet_outbox WHERE id = ?").run(id);
}

/** What became of an announcement: verified, activated, rejected, failed or rolled_back, with the local version. */
export interface HandledAnnouncement {
  rollout: string;
  model: string;
  version: number;
  sha256: string;
  outcome: string;
  local_version: number | null;
  reason: string | null;
  /** When the hub issued it; null for one handled before this was kept. */
  issued_at: string | null;
}

const SELECT_HANDLED =
  "SELECT rollout, model, version, sha256, outcome, local_version, reason, issued_at FROM fleet_announcements";

type AnnouncementKey = Pick<HandledAnnouncement, "rollout" | "model" | "version" | "sha256">;

/** The newest announcement of the model handled here, by the time the hub issued it. */
export function newestHandledAnnouncement(db: Database, model: string): HandledAnnouncement | undefined {
  return (
    db
      .query<HandledAnnouncement, [string]>(
        `${SELECT_HANDLED} WHERE model = ? AND issued_at IS NOT NULL ORDER BY issued_at DESC LIMIT 1`,
      )
      .get(model) ?? undefined
  );
}

export function handledAnnouncement(db: Database, key: AnnouncementKey): HandledAnnouncement | undefined {
  return (
    db
      .query<HandledAnnouncement, [string, string, number, string]>(
        `${SELECT_HANDLED} WHERE rollout = ? AND model = ? AND version = ? AND sha256 = ?`,
      )
      .get(key.rollout, key.model, key.version, key.sha256) ?? undefined
  );
}

export function recordAnnouncement(
  db: Database,
  handled: AnnouncementKey & {
    issued_at: string | null;
    outcome: string;
    local_version?: number;
    reason?: string;
  },
): void {
  db.query(
    "INSERT OR REPLACE INTO fleet_announcements" +
      " (rollout, model, version, sha256, outcome, local_version, reason, updated_at, issued_at)" +
      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
  ).run(
    handled.rollout,
    handled.model,
    handled.version,
    handled.sha256,
    handled.outcome,
    handled.local_version ?? null,
    handled.reason ?? null,
    Date.now(),
    handled.issued_at === null ? null : new Date(handled.issued_at).toISOString(),
  );
}

/** Fleet versions verified but waiting for `edgetrain activate` (auto_update false), by model and local version. */
export function verifiedAwaitingActivation(
  db: Database,
  model: string,
  localVersion: number,
): HandledAnnouncement | undefined {
  return (
    db
      .query<HandledAnnouncement, [string, number]>(
        `${SELECT_HANDLED} WHERE model = ? AND local_version = ? AND outcome = 'verified'`,
      )
      .get(model, localVersion) ?? undefined
  );
}

/**
 * The hub's number for a file activated here from a fleet update: that of the newest announcement of it. A file
 * the hub announced again under another number (a second rollout, a file already in the store) goes by the last.
 */
export function announcedVersionOfFile(db: Database, model: string, sha256: string): number | undefined {
  return (
    db
      .query<{ version: number }, [string, string]>(
        `SELECT version FROM fleet_announcements WHERE model = ? AND sha256 = ? AND outcome = 'activated'
         ORDER BY issued_at IS NULL, issued_at DESC, updated_at DESC LIMIT 1`,
      )
      .get(model, sha256)?.version ?? undefined
  );
}

/** Days a command id is remembered: far past any command's expiry, so a late copy is still known. */
const COMMAND_MEMORY_MS = 30 * 24 * 3600 * 1000;

/** Records a command id; false when it was seen before (the broker delivered it again). */
export function firstSightOfCommand(db: Database, id: string, now = Date.now()): boolean {
  db.query("DELETE FROM fleet_commands WHERE received_at < ?").run(now - COMMAND_MEMORY_MS);
  return db.query("INSERT OR IGNORE INTO fleet_commands (id, received_at) VALUES (?, ?)").run(id, now).changes > 0;
}
