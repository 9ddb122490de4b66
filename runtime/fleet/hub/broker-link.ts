import { createHash } from "node:crypto";
import mqtt, { type MqttClient } from "mqtt";
import { EdgetrainError, messageOf } from "../../errors.ts";
import type { Logger } from "../../plugin-api.ts";
import { type DeviceCommand, type ModelAnnouncement, topics } from "../protocol.ts";

export interface BrokerLinkOptions {
  url: string;
  /** The hub's home: its client id comes from it, so that a restarted hub finds its session again. */
  home: string;
  username?: string;
  password?: string;
  logger: Logger;
  onMessage(topic: string, payload: Buffer): void;
  /** After each (re)connection, once subscribed; `sessionPresent` false when the broker had nothing of the hub's. */
  onConnect?(sessionPresent: boolean): void;
}

/**
 * The hub's MQTT client. A persistent session (clean: false, a stable client id) and QoS 1 subscriptions:
 * what devices send while the hub is away waits at the broker. Announcements are retained so that a device
 * that was offline catches up when it reconnects; commands go QoS 1 to the device's own persistent session.
 * Messages published while the broker is down wait in MQTT.js's queue and go out on reconnection.
 */
export class BrokerLink {
  private constructor(
    private readonly client: MqttClient,
    readonly url: string,
    private readonly logger: Logger,
  ) {}

  static async connect(options: BrokerLinkOptions): Promise<BrokerLink> {
    const clientId = `edgetrain-hub-${createHash("sha256").update(options.home).digest("hex").slice(0, 12)}`;
    const client = mqtt.connect({
      ...brokerAddress(options.url),
      clientId,
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      ...(options.username === undefined ? {} : { username: options.username }),
      ...(options.password === undefined ? {} : { password: options.password }),
      // QoS 0 heartbeats while offline are lost by design; QoS 1 messages wait in the store.
      queueQoSZero: false,
    });
    const { logger } = options;
    const shown = shownUrl(options.url);
    client.on("message", (topic, payload) => {
      try {
        options.onMessage(topic, payload);
      } catch (error) {
        logger.error("a device message failed", { topic, error: messageOf(error) });
      }
    });
    client.on("connect", (connack) => {
      // A broker that kept the session also kept the subscriptions; subscribing again is harmless.
      client.subscribe([...topics.fromDevices], { qos: 1 }, (error) => {
        if (error) logger.error("cannot subscribe to the devices' topics", { broker: shown, error: error.message });
        else options.onConnect?.(connack.sessionPresent);
      });
      logger.info("connected to the broker", { broker: shown, session_present: connack.sessionPresent });
    });
    client.on("offline", () => logger.warn("broker unreachable; retrying", { broker: shown }));
    client.on("error", (error) => logger.warn("broker error", { broker: shown, error: error.message }));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        client.end(true);
        reject(
          new EdgetrainError("refused", `the broker at ${shown} did not accept the hub within 10 s`, {
            hint: "is it running, and are --broker, the user and the password right?",
          }),
        );
      }, 10_000);
      client.once("connect", () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return new BrokerLink(client, shown, logger);
  }

  get connected(): boolean {
    return this.client.connected;
  }

  announce(announcement: ModelAnnouncement): void {
    this.publish(topics.model(announcement.device, announcement.model), announcement, true);
  }

  command(command: DeviceCommand): void {
    this.publish(topics.commands(command.device), command, false);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.client.end(false, {}, () => resolve()));
  }

  private publish(topic: string, message: object, retain: boolean): void {
    this.client.publish(topic, JSON.stringify(message), { qos: 1, retain }, (error) => {
      // Only a closing client refuses; while the broker is down the message waits in the queue.
      if (error) this.logger.warn("a message to a device was not sent", { topic, error: error.message });
    });
  }
}

/** The broker's URL without a password it may carry (`mqtt://hub:secret@host`): what logs and hub.json show. */
export function shownUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.password) return url;
    parsed.password = "***";
    return parsed.toString().replace(/\/$/, "");
  } catch {
    return url.replace(/\/\/[^@/]*@/, "//***@");
  }
}

/**
 * `mqtt://user:pass@host:port` as MQTT.js options, parsed with the WHATWG URL: given a string, MQTT.js
 * parses it with node's deprecated url.parse(), which prints a warning on every start.
 */
function brokerAddress(url: string): {
  protocol: "mqtt" | "mqtts";
  host: string;
  port: number;
  username?: string;
  password?: string;
} {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new EdgetrainError(
      "usage",
      `--broker ${shownUrl(url)}: not a URL; expected mqtt://HOST:PORT or mqtts://HOST:PORT`,
    );
  }
  const protocol = parsed.protocol.replace(/:$/, "");
  if (protocol !== "mqtt" && protocol !== "mqtts") {
    throw new EdgetrainError("usage", `--broker ${shownUrl(url)}: expected mqtt:// or mqtts://`);
  }
  return {
    protocol,
    host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: parsed.port ? Number(parsed.port) : protocol === "mqtts" ? 8883 : 1883,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
  };
}
