import type { Database } from "bun:sqlite";
import { messageOf } from "../../errors.ts";
import type { Logger } from "../../plugin-api.ts";
import { addToOutbox, outboxEntries, removeFromOutbox } from "../../state/fleet.ts";
import type { DeviceReport } from "../protocol.ts";
import { type FleetTransport, HubRefusal } from "./transport.ts";

/**
 * Reports reach the state database before the network: they are sent at every connect, oldest first, and
 * leave the database only once the broker (or the hub over HTTP) acknowledged them. A report sent twice
 * (acknowledged just as the connection broke) carries the same id, and the hub drops the second.
 */
export class Outbox {
  private flushing?: Promise<void>;
  private again = false;
  private closed = false;

  constructor(
    private readonly db: Database,
    private readonly transport: FleetTransport,
    private readonly logger: Logger,
  ) {}

  add(report: DeviceReport): void {
    if (this.closed) return;
    addToOutbox(this.db, { id: report.id, kind: report.kind, body: JSON.stringify(report) });
    void this.flush();
  }

  /** Stops sending (the state database is about to close); what waits is sent after the next start. */
  close(): Promise<void> {
    this.closed = true;
    return this.flushing ?? Promise.resolve();
  }

  /** Sends what waits; a call while a flush runs makes it look again when it ends. */
  flush(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.flushing) {
      this.again = true;
      return this.flushing;
    }
    this.flushing = (async () => {
      do {
        this.again = false;
        await this.sendWaiting();
      } while (this.again && this.transport.isConnected());
    })().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async sendWaiting(): Promise<void> {
    for (
      let entries = outboxEntries(this.db);
      entries.length && !this.closed && this.transport.isConnected();
      entries = outboxEntries(this.db)
    ) {
      for (const entry of entries) {
        if (this.closed) return;
        try {
          await this.transport.report(JSON.parse(entry.body) as DeviceReport);
        } catch (error) {
          // Kept, it would stay first in line and hold back every report after it.
          if (error instanceof HubRefusal) {
            const fields = { report: entry.id, kind: entry.kind, why: error.message };
            this.logger.warn("the fleet hub refused a report; it is dropped", fields);
            if (!this.closed) removeFromOutbox(this.db, entry.id);
            continue;
          }
          this.logger.debug("a fleet report waits for the next connect", { id: entry.id, error: messageOf(error) });
          return;
        }
        if (!this.closed) removeFromOutbox(this.db, entry.id);
      }
    }
  }
}
