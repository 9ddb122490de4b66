import type { BusEvent } from "./bus.ts";

/** A bus event with its place in the daemon run's sequence: what `/v1/events` sends as the SSE `id:`. */
export type NumberedEvent = BusEvent & { id: number };

/** Why a client's `Last-Event-ID` cannot be replayed: older than the buffer, or not of this daemon run. */
export interface ReplayGap {
  reason: "too_old" | "unknown_id";
  requested: number;
  /** The oldest id still held, or null when none is. */
  oldest: number | null;
  newest: number;
}

export type Replay = { events: NumberedEvent[] } | { gap: ReplayGap };

/**
 * Numbers the events of one daemon run and keeps the newest `capacity()` of them, so that a client that
 * reconnects with `Last-Event-ID` gets what it missed. Ids start at the run's start time in milliseconds
 * and go up by one: a restarted daemon's ids lie above its previous run's, so an id from that run is
 * recognised as one this run cannot replay rather than mistaken for one of its own.
 */
export class EventJournal {
  private readonly held: NumberedEvent[] = [];
  private newest: number;
  private readonly listeners = new Set<(event: NumberedEvent) => void>();

  constructor(
    private readonly capacity: () => number,
    /** The id before this run's first event: anything below it was numbered by an earlier run. */
    private readonly startedAt: number,
  ) {
    this.newest = startedAt;
  }

  /** Numbers one event, keeps it, and hands it to the followers. */
  record(event: BusEvent): void {
    const numbered = { ...event, id: ++this.newest } as NumberedEvent;
    this.held.push(numbered);
    const excess = this.held.length - Math.max(0, this.capacity());
    if (excess > 0) this.held.splice(0, excess);
    for (const listener of this.listeners) {
      try {
        listener(numbered);
      } catch {
        // A broken follower must not stop the others.
      }
    }
  }

  /** The id of the newest event of this run (the start time in milliseconds before the first). */
  newestId(): number {
    return this.newest;
  }

  /** The events after `lastId`, or why they cannot be had. */
  since(lastId: number): Replay {
    const oldest = this.held[0]?.id ?? null;
    const gap = (reason: ReplayGap["reason"]) => ({ gap: { reason, requested: lastId, oldest, newest: this.newest } });
    // Above the newest, or below this run's start: numbered by another run (a restart), never by this one.
    if (lastId > this.newest || lastId < this.startedAt) return gap("unknown_id");
    if (lastId === this.newest) return { events: [] };
    // Every id from lastId + 1 on must still be held.
    if (oldest === null || lastId < oldest - 1) return gap("too_old");
    return { events: this.held.slice(lastId - oldest + 1) };
  }

  /**
   * What was missed since `lastId` (when given) and every event from now on, with nothing lost or sent
   * twice in between: both happen in one turn of the event loop. Returns the replay and the unsubscribe.
   */
  follow(lastId: number | undefined, listener: (event: NumberedEvent) => void): { replay: Replay; stop: () => void } {
    const replay = lastId === undefined ? { events: [] } : this.since(lastId);
    this.listeners.add(listener);
    return { replay, stop: () => void this.listeners.delete(listener) };
  }
}
