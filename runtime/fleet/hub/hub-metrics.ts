import { Counter, Gauge, Registry as MetricsRegistry } from "prom-client";
import type { IntakeCounters } from "./intake.ts";
import type { Registry } from "./registry.ts";
import type { Rollouts } from "./rollouts.ts";

/** Seconds of heartbeats the per-second rate is averaged over. */
const RATE_WINDOW_S = 10;

/** The hub's Prometheus metrics: devices online, heartbeats (total and per second), reports, rollouts by state. */
export class HubMetrics implements IntakeCounters {
  readonly registry = new MetricsRegistry();
  private readonly heartbeats: Counter;
  private readonly reports: Counter<"kind" | "duplicate">;
  private readonly droppedReports: Counter<"kind" | "why">;
  /** Heartbeats per whole second, for the last RATE_WINDOW_S seconds. */
  private readonly perSecond = new Map<number, number>();

  constructor(devices: Registry, rollouts: Rollouts, now: () => number) {
    const registers = [this.registry];
    this.heartbeats = new Counter({
      name: "edgetrain_hub_heartbeats_total",
      help: "Heartbeats received from devices.",
      registers,
    });
    this.reports = new Counter({
      name: "edgetrain_hub_reports_total",
      help: "Reports received, duplicates (dropped) apart.",
      labelNames: ["kind", "duplicate"],
      registers,
    });
    this.droppedReports = new Counter({
      name: "edgetrain_hub_reports_dropped_total",
      help: "Reports taken in but not applied: why=unannounced, an outcome for a rollout not announced to the device.",
      labelNames: ["kind", "why"],
      registers,
    });
    const perSecond = this.perSecond;
    new Gauge({
      name: "edgetrain_hub_heartbeats_per_second",
      help: `Heartbeats received per second, over the last ${RATE_WINDOW_S} s.`,
      registers,
      collect() {
        const second = Math.floor(now() / 1000);
        let sum = 0;
        for (let s = second - RATE_WINDOW_S; s < second; s++) sum += perSecond.get(s) ?? 0;
        this.set(sum / RATE_WINDOW_S);
      },
    });
    new Gauge({
      name: "edgetrain_hub_devices",
      help: "Devices known to the hub: registered ones online or offline, and unregistered (never sent their info).",
      labelNames: ["state"],
      registers,
      collect() {
        const row = devices.db
          .query<{ online: number; total: number; unregistered: number }, []>(
            `SELECT coalesce(sum(online AND info IS NOT NULL), 0) AS online,
               coalesce(sum(info IS NOT NULL), 0) AS total,
               coalesce(sum(info IS NULL), 0) AS unregistered FROM devices`,
          )
          .get()!;
        this.set({ state: "online" }, row.online);
        this.set({ state: "offline" }, row.total - row.online);
        this.set({ state: "unregistered" }, row.unregistered);
      },
    });
    new Gauge({
      name: "edgetrain_hub_rollouts",
      help: "Rollouts by state: running, paused, halted, aborted, completed.",
      labelNames: ["state"],
      registers,
      collect() {
        const counts = rollouts.stateCounts();
        for (const state of ["running", "paused", "halted", "aborted", "completed"])
          this.set({ state }, counts[state] ?? 0);
      },
    });
  }

  heartbeat(at: number): void {
    this.heartbeats.inc();
    const second = Math.floor(at / 1000);
    this.perSecond.set(second, (this.perSecond.get(second) ?? 0) + 1);
    if (this.perSecond.size > RATE_WINDOW_S * 2) {
      for (const key of this.perSecond.keys()) if (key < second - RATE_WINDOW_S) this.perSecond.delete(key);
    }
  }

  report(kind: string, duplicate: boolean): void {
    this.reports.inc({ kind, duplicate: duplicate ? "yes" : "no" });
  }

  dropped(kind: string, why: string): void {
    this.droppedReports.inc({ kind, why });
  }

  async text(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
