import mqtt, { type MqttClient } from "mqtt";
import {
  type DeviceCommand,
  type DeviceInfo,
  type DeviceReport,
  type Heartbeat,
  type ModelAnnouncement,
  topics,
} from "../../runtime/fleet/protocol.ts";

/**
 * A device played by a plain MQTT client speaking the protocol: status with a last will, info, heartbeats,
 * reports; it records the announcements and commands it receives. Not the agent: the hub is tested against
 * the wire protocol alone.
 */
export interface PlayDevice {
  id: string;
  client: MqttClient;
  announcements: ModelAnnouncement[];
  commands: DeviceCommand[];
  heartbeat(extra?: Partial<Heartbeat>): Promise<void>;
  report(report: DeviceReport): Promise<void>;
  otaReport(
    announcement: ModelAnnouncement,
    outcome: "verified" | "activated" | "rejected" | "failed" | "rolled_back",
    reason?: string,
  ): Promise<DeviceReport>;
  /** Ends the socket without DISCONNECT, as a device that loses power: the broker publishes the last will. */
  vanish(): void;
  close(): Promise<void>;
}

let seq = 0;

export async function playDevice(
  url: string,
  id: string,
  options: { groups?: string[]; clean?: boolean } = {},
): Promise<PlayDevice> {
  const client = mqtt.connect(url, {
    clientId: `device-${id}`,
    clean: options.clean ?? false,
    reconnectPeriod: 200,
    will: {
      topic: topics.status(id),
      payload: Buffer.from(JSON.stringify({ device: id, state: "offline" })),
      qos: 1,
      retain: true,
    },
  });
  const announcements: ModelAnnouncement[] = [];
  const commands: DeviceCommand[] = [];
  client.on("message", (topic, payload) => {
    if (payload.length === 0) return;
    const message = JSON.parse(payload.toString());
    if (topic === topics.commands(id)) commands.push(message);
    else announcements.push(message);
  });
  const info: DeviceInfo = {
    device: id,
    name: `${id}.lab`,
    location: "lab 2",
    groups: options.groups ?? [],
    edgetrain_version: "0.0.0-test",
    profile: "base",
    hardware: { cpu: "test" },
    models: [{ model: "player_1", active: 1 }],
    at: new Date().toISOString(),
  };
  const publish = (topic: string, message: object, retain = false, qos: 0 | 1 = 1) =>
    new Promise<void>((resolve, reject) =>
      client.publish(topic, JSON.stringify(message), { qos, retain }, (error) => (error ? reject(error) : resolve())),
    );
  client.on("connect", () => {
    client.subscribe([topics.models(id), topics.commands(id)], { qos: 1 });
    // A device that vanishes before the broker acknowledged these has nothing to wait for.
    publish(topics.status(id), { device: id, state: "online" }, true).catch(() => {});
    publish(topics.info(id), info, true).catch(() => {});
  });
  await new Promise<void>((resolve) => client.once("connect", () => resolve()));
  let reportCount = 0;
  return {
    id,
    client,
    announcements,
    commands,
    heartbeat: (extra = {}) =>
      publish(
        topics.heartbeat(id),
        { device: id, at: new Date().toISOString(), seq: ++seq, cpu_ratio: 0.25, ...extra },
        false,
        0,
      ),
    report: (report) => publish(topics.reports(id), report),
    async otaReport(announcement, outcome, reason) {
      const report: DeviceReport = {
        kind: "ota",
        id: `${id}-${++reportCount}-${announcement.rollout}`,
        device: id,
        at: new Date().toISOString(),
        rollout: announcement.rollout,
        model: announcement.model,
        version: announcement.version,
        outcome,
        ...(reason ? { reason } : {}),
      };
      await publish(topics.reports(id), report);
      return report;
    },
    vanish() {
      client.options.reconnectPeriod = 0;
      client.stream.destroy();
      client.end(true);
    },
    close: () => new Promise<void>((resolve) => client.end(false, {}, () => resolve())),
  };
}
