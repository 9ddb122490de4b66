import type { EventSink } from "../plugin-api.ts";

export interface BusEvent {
  type: string;
  at: number;
  data: Record<string, unknown>;
}

/** The daemon's one event stream: readings, decisions, run progress. The API streams it to the TUI. */
export class EventBus implements EventSink {
  private readonly listeners = new Set<(event: BusEvent) => void>();

  emit(type: string, data: Record<string, unknown>): void {
    const event = { type, at: Date.now(), data };
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
