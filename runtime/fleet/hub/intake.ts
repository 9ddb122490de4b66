import * as v from "valibot";
import type { Logger } from "../../plugin-api.ts";
import { MAX_MESSAGE_DEPTH, nestedDeeperThan } from "../json-depth.ts";
import {
  DeviceInfo,
  DeviceReport,
  DeviceStatus,
  HEARTBEAT_MAX_BYTES,
  Heartbeat,
  parseTopic,
  RunUpdate,
} from "../protocol.ts";
import type { LiveRuns } from "./live-runs.ts";
import type { Registry } from "./registry.ts";
import type { Rollouts } from "./rollouts.ts";

export type Transport = "mqtt" | "http";

/** Why a message was not taken, for the HTTP answer and the log; undefined when it was. */
export type Refusal = string | undefined;

/** What the hub counts as it receives: the metrics read it. */
export interface IntakeCounters {
  heartbeat(at: number): void;
  report(kind: string, duplicate: boolean): void;
  /** A report taken in but not applied, such as an outcome for a rollout that never announced to the device. */
  dropped(kind: string, why: string): void;
}

/**
 * Everything devices send, over MQTT or the HTTP transport, checked against the protocol's schemas and
 * against the device it claims to come from, then recorded. A malformed message is logged and dropped:
 * one bad device must not stop the hub.
 */
export class Intake {
  constructor(
    private readonly registry: Registry,
    private readonly rollouts: Rollouts,
    private readonly counters: IntakeCounters,
    private readonly liveRuns: LiveRuns,
    private readonly now: () => number,
    private readonly logger: Logger,
  ) {}

  /** One MQTT message on a device topic. */
  mqttMessage(topic: string, payload: Buffer): void {
    const where = parseTopic(topic);
    if (!where) return;
    // A retained message cleared by an empty payload says nothing.
    if (payload.length === 0) return;
    let message: unknown;
    try {
      message = JSON.parse(payload.toString("utf8"));
    } catch {
      this.logger.warn("dropped a message that is not JSON", { device: where.device, topic });
      return;
    }
    const refusal = this.take(where.kind, where.device, message, "mqtt", payload.length);
    if (refusal) this.logger.warn("dropped a device message", { device: where.device, topic, why: refusal });
  }

  /** One message of `kind` (status, info, heartbeat, reports, runs) from `device`. */
  take(kind: string, device: string, message: unknown, transport: Transport, bytes = 0): Refusal {
    if (nestedDeeperThan(message)) return `nested deeper than ${MAX_MESSAGE_DEPTH} levels`;
    const at = this.now();
    switch (kind) {
      case "status": {
        const status = this.parse(DeviceStatus, message, device);
        if (typeof status === "string") return status;
        this.registry.recordStatus(status, at);
        this.logger.info(`device ${status.state}`, { device });
        return undefined;
      }
      case "info": {
        const info = this.parse(DeviceInfo, message, device);
        if (typeof info === "string") return info;
        // The heartbeats queued before it were sent before it: they must not land after it.
        this.registry.flush();
        this.registry.recordInfo(info, transport, at);
        this.logger.info("device registered", { device, name: info.name, groups: info.groups });
        return undefined;
      }
      case "heartbeat": {
        if (bytes > HEARTBEAT_MAX_BYTES) return `a heartbeat of ${bytes} bytes, over ${HEARTBEAT_MAX_BYTES}`;
        const heartbeat = this.parse(Heartbeat, message, device);
        if (typeof heartbeat === "string") return heartbeat;
        this.registry.recordHeartbeat(heartbeat, at, transport === "http");
        this.counters.heartbeat(at);
        return undefined;
      }
      case "reports": {
        const report = this.parse(DeviceReport, message, device);
        if (typeof report === "string") return report;
        this.registry.flush();
        this.report(report, at);
        return undefined;
      }
      case "runs": {
        const update = this.parse(RunUpdate, message, device);
        if (typeof update === "string") return update;
        this.liveRuns.record(update);
        return undefined;
      }
      default:
        return `no message kind "${kind}"`;
    }
  }

  /** Applied once per report id, in one transaction with the record of its id. */
  private report(report: DeviceReport, at: number): void {
    let rollout: string | undefined;
    let dropped: string | undefined;
    const fresh = this.registry.db.transaction(() => {
      if (!this.registry.acceptReport(report, at)) return false;
      if (report.kind === "ota") {
        const applied = this.rollouts.applyReport(report);
        if ("dropped" in applied) dropped = applied.dropped;
        else rollout = applied.rollout;
      }
      if (report.kind === "score") this.registry.scores.record(report, at);
      if (report.kind === "command") {
        this.registry.db
          .query("UPDATE commands SET state = ?, result = ? WHERE id = ? AND device = ?")
          .run(
            report.ok ? "done" : "failed",
            JSON.stringify(report.ok ? (report.result ?? null) : (report.error ?? null)),
            report.command_id,
            report.device,
          );
      }
      return true;
    })();
    this.counters.report(report.kind, !fresh);
    if (!fresh) {
      this.logger.debug("dropped a report seen before", { device: report.device, report: report.id });
      return;
    }
    if (dropped) {
      this.counters.dropped(report.kind, "unannounced");
      this.logger.warn("dropped an update outcome", { device: report.device, report: report.id, why: dropped });
      return;
    }
    if (report.kind === "ota")
      this.logger.info(`device reported ${report.outcome.replace("_", " ")}`, {
        device: report.device,
        model: report.model,
        version: report.version,
        rollout: report.rollout,
        reason: report.reason,
      });
    if (report.kind === "score")
      this.logger.info("device scored", {
        device: report.device,
        model: report.model,
        version: report.version,
        job: report.job,
        rows: report.rows,
      });
    if (rollout) this.rollouts.advance(rollout);
  }

  private parse<S extends v.GenericSchema>(schema: S, message: unknown, device: string): v.InferOutput<S> | string {
    const parsed = v.safeParse(schema, message);
    if (!parsed.success) {
      const issue = parsed.issues[0];
      const path = issue.path?.map((item: { key: unknown }) => String(item.key)).join(".") ?? "";
      return `${path ? `${path}: ` : ""}${issue.message}`;
    }
    const claimed = (parsed.output as { device: string }).device;
    if (claimed !== device) return `the message names device ${claimed}, not ${device}`;
    return parsed.output;
  }
}
