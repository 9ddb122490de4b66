import type { FleetConfig } from "../../config/schema.ts";
import { messageOf } from "../../errors.ts";
import type { Logger } from "../../plugin-api.ts";
import { type DeviceInfo, type DeviceReport, type Heartbeat, httpRoutes, type RunUpdate } from "../protocol.ts";
import { redactUrl } from "./redact-url.ts";
import { type FleetTransport, HubRefusal, type TransportEvents } from "./transport.ts";

/**
 * The hub's HTTP routes, for sites without a broker: registration, heartbeats whose answer lists the
 * announcements and commands waiting for the device, and reports. The device counts as connected while its
 * requests succeed; the first success after a failure is a reconnect (registration and outbox again).
 */
export class HttpTransport implements FleetTransport {
  private events?: TransportEvents;
  private up = false;

  constructor(private readonly options: { fleet: FleetConfig; device: string; logger: Logger }) {}

  start(events: TransportEvents): void {
    this.events = events;
    this.up = true;
    events.connected();
  }

  isConnected(): boolean {
    return this.up;
  }

  async register(info: DeviceInfo): Promise<void> {
    await this.post(httpRoutes.register, info);
  }

  async heartbeat(beat: Heartbeat): Promise<void> {
    const wasUp = this.up;
    const answer = (await this.post(httpRoutes.heartbeat(this.options.device), beat)) as
      | { pending?: unknown; commands?: unknown }
      | undefined;
    if (!wasUp) this.events?.connected();
    // Passed on as they came: a signature covers the fields as signed, so nothing is parsed away before it is checked.
    for (const announcement of Array.isArray(answer?.pending) ? answer.pending : [])
      this.events?.announcement(announcement);
    for (const command of Array.isArray(answer?.commands) ? answer.commands : []) this.events?.command(command);
  }

  async report(report: DeviceReport): Promise<void> {
    await this.post(httpRoutes.reports(this.options.device), report);
  }

  /** Live run lines have no HTTP route: they are for the broker. */
  runUpdate(_update: RunUpdate): void {}

  async close(): Promise<void> {
    this.up = false;
  }

  private async post(path: string, body: unknown): Promise<unknown> {
    const { fleet, logger } = this.options;
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (fleet.api_key) headers.authorization = `Bearer ${fleet.api_key}`;
    try {
      const response = await fetch(new URL(path, fleet.url), {
        method: "POST",
        headers,
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await response.text();
      // The hub is up and read the message, but will never take it (a hub older than this device's protocol).
      if (response.status === 400) throw new HubRefusal(`the hub refused it: ${refusalOf(text)}`);
      if (!response.ok) throw new Error(`the hub answered ${response.status} to ${path}`);
      if (!this.up) logger.info("reached the fleet hub again", { url: redactUrl(fleet.url!) });
      this.up = true;
      return text ? (JSON.parse(text) as unknown) : undefined;
    } catch (error) {
      if (error instanceof HubRefusal) throw error;
      if (this.up)
        logger.warn("lost the fleet hub; training and serving go on, reports wait in the outbox", {
          url: redactUrl(fleet.url!),
          error: messageOf(error),
        });
      this.up = false;
      throw error;
    }
  }
}

function refusalOf(text: string): string {
  try {
    return String((JSON.parse(text) as { message?: unknown }).message ?? text).slice(0, 300);
  } catch {
    return text.slice(0, 300);
  }
}
