import { readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import type { FleetConfig } from "../../config/schema.ts";
import { messageOf } from "../../errors.ts";
import type { Logger } from "../../plugin-api.ts";
import {
  type DeviceInfo,
  type DeviceReport,
  type DeviceStatus,
  type Heartbeat,
  type RunUpdate,
  topics,
} from "../protocol.ts";
import { redactUrl } from "./redact-url.ts";
import type { FleetTransport, TransportEvents } from "./transport.ts";
import { parseJson } from "./trust.ts";

export interface MqttTransportOptions {
  fleet: FleetConfig;
  device: string;
  home: string;
  logger: Logger;
  /** First reconnect delay, doubled after each failed try up to maxReconnectMs. */
  minReconnectMs?: number;
  maxReconnectMs?: number;
}

/**
 * The device's MQTT connection: a persistent session (client id = device id, so commands sent while it was
 * away wait at the broker), a retained `offline` last will, and reconnects with a capped backoff. MQTT.js
 * keeps QoS 1 messages that were not acknowledged and sends them again after a reconnect.
 */
export class MqttTransport implements FleetTransport {
  private client?: MqttClient;
  private closing = false;

  constructor(private readonly options: MqttTransportOptions) {}

  start(events: TransportEvents): void {
    const { fleet, device, logger } = this.options;
    const minMs = this.options.minReconnectMs ?? 1000;
    const maxMs = this.options.maxReconnectMs ?? 60_000;
    const client = (this.client = mqtt.connect(fleet.broker!, {
      clientId: device,
      clean: false,
      protocolVersion: 4,
      keepalive: 30,
      reconnectPeriod: minMs,
      connectTimeout: 10_000,
      username: fleet.username ?? (fleet.password !== undefined ? device : undefined),
      password: fleet.password,
      ...this.tlsFiles(),
      will: {
        topic: topics.status(device),
        payload: Buffer.from(JSON.stringify(status(device, "offline"))),
        qos: 1,
        retain: true,
      },
    }));
    let failures = 0;
    client.on("connect", (connack) => {
      failures = 0;
      client.options.reconnectPeriod = minMs;
      logger.info("connected to the fleet broker", {
        broker: redactUrl(fleet.broker!),
        device,
        session_present: connack.sessionPresent,
      });
      client.publish(topics.status(device), JSON.stringify(status(device, "online")), { qos: 1, retain: true });
      client.subscribe([topics.models(device), topics.commands(device)], { qos: 1 }, (error) => {
        if (error)
          logger.warn("could not subscribe to this device's announcements and commands", { error: messageOf(error) });
      });
      events.connected();
    });
    client.on("close", () => {
      if (this.closing) return;
      failures++;
      client.options.reconnectPeriod = Math.min(maxMs, minMs * 2 ** Math.min(failures, 16));
      if (failures === 1)
        logger.warn("lost the fleet broker; training and serving go on, reports wait in the outbox", {
          broker: redactUrl(fleet.broker!),
        });
    });
    client.on("error", (error) => logger.debug("fleet broker connection error", { error: messageOf(error) }));
    client.on("message", (topic, payload) => {
      // A throw here would end MQTT.js's stream: no later message would be read, while the device looks online.
      try {
        const raw = parseJson(payload);
        if (raw === undefined) return;
        if (topic === topics.commands(device)) events.command(raw);
        else if (topic.startsWith(`${topics.models(device).slice(0, -1)}`)) events.announcement(raw);
      } catch (error) {
        logger.warn("refused a fleet message that could not be handled", { topic, error: messageOf(error) });
      }
    });
  }

  isConnected(): boolean {
    return this.client?.connected ?? false;
  }

  register(info: DeviceInfo): Promise<void> {
    return this.publish(topics.info(this.options.device), info, { qos: 1, retain: true });
  }

  heartbeat(beat: Heartbeat): Promise<void> {
    return this.publish(topics.heartbeat(this.options.device), beat, { qos: 0 });
  }

  report(report: DeviceReport): Promise<void> {
    return this.publish(topics.reports(this.options.device), report, { qos: 1 });
  }

  runUpdate(update: RunUpdate): void {
    if (this.isConnected()) void this.publish(topics.runs(this.options.device), update, { qos: 0 }).catch(() => {});
  }

  /** A stop says `offline` itself: the broker publishes the will only for a device that vanished. */
  async close(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.closing = true;
    if (client.connected) {
      await this.publish(topics.status(this.options.device), status(this.options.device, "offline"), {
        qos: 1,
        retain: true,
      }).catch(() => {});
    }
    await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
  }

  private publish(topic: string, message: unknown, options: { qos: 0 | 1; retain?: boolean }): Promise<void> {
    const client = this.client;
    if (!client?.connected) return Promise.reject(new Error("not connected to the fleet broker"));
    return new Promise((resolve, reject) => {
      client.publish(topic, JSON.stringify(message), options, (error) => (error ? reject(error) : resolve()));
    });
  }

  private tlsFiles(): { ca?: Buffer; cert?: Buffer; key?: Buffer } {
    const { fleet, home } = this.options;
    const read = (file: string | undefined) =>
      file === undefined ? undefined : readFileSync(isAbsolute(file) ? file : join(home, file));
    return { ca: read(fleet.ca), cert: read(fleet.cert), key: read(fleet.key) };
  }
}

function status(device: string, state: DeviceStatus["state"]): DeviceStatus {
  return { device, state, at: new Date().toISOString() };
}
