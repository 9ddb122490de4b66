import type { Database } from "bun:sqlite";
import { SQL } from "bun";
import { EdgetrainError, messageOf } from "../../errors.ts";

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** One heartbeat as stored: the device, when the hub received it, the message as JSON. */
export type HeartbeatRow = [device: string, at: number, data: string];

/**
 * The heartbeats' time series: the one part of the registry that grows with the fleet. It lives in the
 * registry's SQLite database, or in PostgreSQL (`--database postgres://…`) when it outgrows one file.
 */
export interface HeartbeatSeries {
  /** Called inside the registry's flush transaction; a remote store queues the batch and writes in order. */
  write(rows: HeartbeatRow[]): void;
  /** Resolves once every batch written so far is stored. */
  settled(): Promise<void>;
  latest(device: string, limit: number): Promise<Array<{ at: number; data: string }>>;
  count(device?: string): Promise<number>;
  /**
   * Keeps `keepDays`, and one heartbeat a minute per device for those older than a day. The cut is on a
   * minute boundary, so that a minute is never split between two passes.
   */
  maintain(now: number, keepDays: number): Promise<{ removed: number; downsampled: number }>;
  close(): Promise<void>;
}

const cutOf = (now: number) => Math.floor((now - DAY) / MINUTE) * MINUTE;

export class SqliteHeartbeats implements HeartbeatSeries {
  constructor(private readonly db: Database) {}

  write(rows: HeartbeatRow[]): void {
    const insert = this.db.query("INSERT INTO heartbeats (device, at, data) VALUES (?, ?, ?)");
    for (const row of rows) insert.run(...row);
  }

  async settled(): Promise<void> {}

  async latest(device: string, limit: number) {
    return this.db
      .query<{ at: number; data: string }, [string, number]>(
        "SELECT at, data FROM heartbeats WHERE device = ? ORDER BY at DESC LIMIT ?",
      )
      .all(device, limit);
  }

  async count(device?: string): Promise<number> {
    const row =
      device === undefined
        ? this.db.query<{ n: number }, []>("SELECT count(*) AS n FROM heartbeats").get()
        : this.db.query<{ n: number }, [string]>("SELECT count(*) AS n FROM heartbeats WHERE device = ?").get(device);
    return row?.n ?? 0;
  }

  async maintain(now: number, keepDays: number) {
    return this.db.transaction(() => {
      const removed = this.db.query("DELETE FROM heartbeats WHERE at < ?").run(now - keepDays * DAY).changes;
      const thinned = this.db
        .query(
          `DELETE FROM heartbeats WHERE resolution = 0 AND at < ?1 AND rowid NOT IN
             (SELECT min(rowid) FROM heartbeats WHERE resolution = 0 AND at < ?1 GROUP BY device, at / ${MINUTE})`,
        )
        .run(cutOf(now)).changes;
      this.db.query(`UPDATE heartbeats SET resolution = ${MINUTE} WHERE resolution = 0 AND at < ?`).run(cutOf(now));
      return { removed: removed + thinned, downsampled: thinned };
    })();
  }

  async close(): Promise<void> {}
}

/** The series in PostgreSQL through Bun's SQL client; its table is made on first use. */
export class PostgresHeartbeats implements HeartbeatSeries {
  private readonly sql: SQL;
  private readonly ready: Promise<void>;
  /** Batches are written one after the other, in the order the hub received them. */
  private writing: Promise<void>;

  constructor(
    private readonly url: string,
    private readonly onError: (error: unknown) => void,
  ) {
    this.sql = new SQL(url);
    this.ready = this.sql
      .unsafe(
        `CREATE TABLE IF NOT EXISTS hub_heartbeats (
           id BIGSERIAL PRIMARY KEY,
           device TEXT NOT NULL,
           at BIGINT NOT NULL,
           resolution INTEGER NOT NULL DEFAULT 0,
           data TEXT NOT NULL
         );
         CREATE INDEX IF NOT EXISTS hub_heartbeats_by_device ON hub_heartbeats (device, at);
         CREATE INDEX IF NOT EXISTS hub_heartbeats_by_time ON hub_heartbeats (at);`,
      )
      .simple()
      .then(() => undefined);
    // A database that never answered has nothing to write to: open() says so at start.
    this.writing = this.ready.catch(() => undefined);
  }

  /** Checks the database answers, so that a wrong --database stops the hub at start rather than later. */
  async open(): Promise<void> {
    try {
      await this.ready;
    } catch (error) {
      throw new EdgetrainError(
        "state_failed",
        `cannot use the heartbeat database ${shownDatabase(this.url)}: ${messageOf(error)}`,
        {
          hint: "check --database, and that PostgreSQL runs and takes the user",
        },
      );
    }
  }

  write(rows: HeartbeatRow[]): void {
    const records = rows.map(([device, at, data]) => ({ device, at, data }));
    this.writing = this.writing
      .then(() => this.sql`INSERT INTO hub_heartbeats ${this.sql(records, "device", "at", "data")}`)
      .then(
        () => undefined,
        (error: unknown) => {
          this.onError(error);
        },
      );
  }

  async settled(): Promise<void> {
    await this.writing;
  }

  async latest(device: string, limit: number) {
    await this.settled();
    const rows = await this
      .sql`SELECT at, data FROM hub_heartbeats WHERE device = ${device} ORDER BY at DESC LIMIT ${limit}`;
    return (rows as Array<{ at: string | number; data: string }>).map((row) => ({
      at: Number(row.at),
      data: row.data,
    }));
  }

  async count(device?: string): Promise<number> {
    await this.settled();
    const rows =
      device === undefined
        ? await this.sql`SELECT count(*) AS n FROM hub_heartbeats`
        : await this.sql`SELECT count(*) AS n FROM hub_heartbeats WHERE device = ${device}`;
    return Number((rows as Array<{ n: string | number }>)[0]?.n ?? 0);
  }

  async maintain(now: number, keepDays: number) {
    await this.settled();
    const cut = cutOf(now);
    return this.sql.begin(async (tx) => {
      const removed = await tx`DELETE FROM hub_heartbeats WHERE at < ${now - keepDays * DAY}`;
      const thinned = await tx`
        DELETE FROM hub_heartbeats WHERE resolution = 0 AND at < ${cut} AND id NOT IN
          (SELECT min(id) FROM hub_heartbeats WHERE resolution = 0 AND at < ${cut} GROUP BY device, at / ${MINUTE})`;
      await tx`UPDATE hub_heartbeats SET resolution = ${MINUTE} WHERE resolution = 0 AND at < ${cut}`;
      return { removed: removed.count + thinned.count, downsampled: thinned.count };
    });
  }

  async close(): Promise<void> {
    await this.settled();
    await this.sql.close();
  }
}

/** The URL without its password, for messages. */
export function shownDatabase(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}
