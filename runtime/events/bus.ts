import type { EventPayloads, EventType } from "../api/contract.ts";

export type { EventPayloads, EventType };

/**
 * One event as the bus carries it (`at` in ms). The names and payloads are the API contract's, the wire
 * form of `/v1/events`: one vocabulary, so an unknown name or a wrong payload does not compile.
 */
export type BusEvent = { [T in EventType]: { type: T; at: number; data: EventPayloads[T] } }[EventType];

/** What the runtime's services emit into: typed by event name. `{ emit() {} }` when nobody listens. */
export interface Events {
  emit<T extends EventType>(type: T, data: EventPayloads[T]): void;
}

/** The daemon's one event stream: readings, decisions, run progress. The API streams it to the TUI. */
export class EventBus implements Events {
  private readonly listeners = new Set<(event: BusEvent) => void>();

  emit<T extends EventType>(type: T, data: EventPayloads[T]): void {
    const event = { type, at: Date.now(), data } as BusEvent;
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A broken listener must not stop the others or the emitter.
      }
    }
  }

  subscribe(listener: (event: BusEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
