import type { BusEvent } from "../../events/bus.ts";
import type { DeviceReport, RunUpdate } from "../protocol.ts";

type RunReport = Omit<Extract<DeviceReport, { kind: "run" }>, "id" | "device" | "at" | "kind">;

export interface LiveRunParts {
  device: string;
  /** Forwarded at once, best effort (QoS 0). */
  send: (update: RunUpdate) => void;
  /** A finished run: kept in the outbox until the hub has it. */
  finished: (report: RunReport) => void;
  logLinesPerSecond: () => number;
  now?: () => number;
}

/**
 * Follows runs from the event bus for the hub: heartbeats, checkpoints, state changes and the run's log
 * lines (at most log_lines_per_s; the number dropped rides on the next line sent), and the finished run
 * as a report that survives being offline.
 */
export class LiveRuns {
  private windowStart = 0;
  private sentInWindow = 0;
  private dropped = 0;

  constructor(private readonly parts: LiveRunParts) {}

  readonly listener = (event: BusEvent): void => {
    const at = new Date(event.at).toISOString();
    const update = (run: string, kind: RunUpdate["event"], data: Record<string, unknown>) =>
      this.parts.send({ device: this.parts.device, run, at, event: kind, data });
    switch (event.type) {
      case "run.heartbeat":
      case "run.checkpoint": {
        const { run, ...data } = event.data;
        update(run, event.type === "run.heartbeat" ? "heartbeat" : "checkpoint", data);
        return;
      }
      case "run.started":
      case "run.paused":
      case "run.resumed": {
        const { run, ...data } = event.data;
        update(run, "state", { state: event.type.slice(4), ...data });
        return;
      }
      case "run.finished": {
        const { run, job, key, status, metrics, error, deployment } = event.data;
        update(run, "state", { state: status });
        this.parts.finished({
          run,
          job,
          state: status,
          ...(key != null && { key }),
          ...(metrics && { metrics }),
          ...(error !== undefined && { error }),
          ...(deployment && { model: deployment.model, version: deployment.version }),
        });
        return;
      }
      case "run.log": {
        const { run, worker, line } = event.data;
        if (!this.admitLine(event.at)) return;
        update(run, "log", { line, ...(worker !== undefined && { worker }), ...this.takeDropped() });
        return;
      }
      case "log": {
        const { run, ...line } = event.data as { run?: unknown } & Record<string, unknown>;
        if (typeof run !== "string" || !this.admitLine(event.at)) return;
        update(run, "log", { ...line, ...this.takeDropped() });
        return;
      }
    }
  };

  private takeDropped(): { dropped_before?: number } {
    const dropped = this.dropped;
    this.dropped = 0;
    return dropped ? { dropped_before: dropped } : {};
  }

  private admitLine(at: number): boolean {
    const limit = this.parts.logLinesPerSecond();
    if (at - this.windowStart >= 1000) {
      this.windowStart = at;
      this.sentInWindow = 0;
    }
    if (this.sentInWindow < limit) {
      this.sentInWindow++;
      return true;
    }
    this.dropped++;
    return false;
  }
}
