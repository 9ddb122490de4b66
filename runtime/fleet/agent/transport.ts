import type { DeviceInfo, DeviceReport, Heartbeat, RunUpdate } from "../protocol.ts";

/** What the agent hears from its transport. */
export interface TransportEvents {
  /** Connected, first or again: registration and the outbox go out. */
  connected(): void;
  /** A model announcement or a command as it arrived, not yet checked. */
  announcement(raw: unknown): void;
  command(raw: unknown): void;
}

/** How the agent reaches the hub: an MQTT broker, or the hub's HTTP routes. */
export interface FleetTransport {
  start(events: TransportEvents): void;
  isConnected(): boolean;
  register(info: DeviceInfo): Promise<void>;
  heartbeat(beat: Heartbeat): Promise<void>;
  /** Resolves once the other side acknowledged it (the broker's PUBACK, an HTTP 2xx); HubRefusal if it never will. */
  report(report: DeviceReport): Promise<void>;
  /** Best effort: a live run's line lost on the way is not worth keeping. */
  runUpdate(update: RunUpdate): void;
  close(): Promise<void>;
}

/** The hub received a message and will never take it: sending it again cannot help. */
export class HubRefusal extends Error {}
