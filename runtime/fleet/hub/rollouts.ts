import { randomBytes } from "node:crypto";
import { EdgetrainError } from "../../errors.ts";
import type { Logger } from "../../plugin-api.ts";
import type { DeviceReport, ModelAnnouncement } from "../protocol.ts";
import type { HubKeys } from "./hub-key.ts";
import { signedAnnouncement } from "./model-announcement.ts";
import type { ModelFile, ModelFiles } from "./model-files.ts";
import type { Registry } from "./registry.ts";
import { type RolloutPlan, waveOf } from "./rollout-plan.ts";
import {
  type Announce,
  RolloutRecords,
  type RolloutRow,
  type RolloutState,
  type TargetState,
} from "./rollout-records.ts";

export type { RolloutRow, RolloutState, RolloutTarget, TargetState } from "./rollout-records.ts";

/**
 * Staged rollouts: the devices of a group (or all), in waves. A wave starts once every device of the one
 * before has reported, or its timeout passed, and only while the failures stay within the plan's rate;
 * past it the rollout halts by itself and says why. All of it lives in the registry, so a hub that
 * restarts carries on where it was.
 */
export class Rollouts extends RolloutRecords {
  constructor(
    registry: Registry,
    private readonly files: ModelFiles,
    private readonly keys: HubKeys,
    private readonly announce: Announce,
    private readonly publicUrl: () => string,
    private readonly now: () => number,
    private readonly logger: Logger,
  ) {
    super(registry);
  }

  start(
    file: ModelFile,
    plan: RolloutPlan,
    options: { group?: string; kind?: "publish" | "rollback" } = {},
  ): RolloutRow {
    // A device that never sent its info is no target: a stray or forged id would hold up each wave for it.
    const devices = this.registry
      .devices({ registered: true, ...(options.group === undefined ? {} : { group: options.group }) })
      .map((device) => device.id);
    if (devices.length === 0) {
      throw new EdgetrainError(
        "not_found",
        options.group ? `no device in group ${options.group}` : "no device has registered with the hub yet",
        { details: { group: options.group ?? null } },
      );
    }
    const id = `r-${randomBytes(5).toString("hex")}`;
    const at = this.now();
    const waves = waveOf(devices.length, plan.waves);
    this.db.transaction(() => {
      this.db
        .query(
          `INSERT INTO rollouts
             (id, model, version, kind, device_group, waves, max_failures, wave_timeout_ms, state, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', ?)`,
        )
        .run(
          id,
          file.model,
          file.version,
          options.kind ?? "publish",
          options.group ?? null,
          JSON.stringify(plan.waves),
          plan.maxFailures,
          plan.waveTimeoutMs,
          at,
        );
      const insert = this.db.query(
        "INSERT INTO rollout_devices (rollout, device, wave, state) VALUES (?, ?, ?, 'waiting')",
      );
      devices.forEach((device, index) => insert.run(id, device, waves[index]!));
    })();
    const superseded = this.supersede(id, file.model);
    this.logger.info("rollout started", {
      rollout: id,
      model: file.model,
      version: file.version,
      devices: devices.length,
      group: options.group,
    });
    for (const older of superseded) this.advance(older);
    this.advance(id);
    return this.get(id)!;
  }

  /**
   * Applies an OTA outcome that the registry has not seen before; returns the rollout it belongs to, or
   * why it was dropped. Only a device the rollout announced to answers it: an outcome for a rollout that
   * never named it, or that has it waiting in a later wave (a forged announcement), must not count.
   */
  applyReport(report: Extract<DeviceReport, { kind: "ota" }>): { rollout: string } | { dropped: string } {
    const target = this.db
      .query<{ state: TargetState; announced_at: number | null }, [string, string]>(
        "SELECT state, announced_at FROM rollout_devices WHERE rollout = ? AND device = ?",
      )
      .get(report.rollout, report.device);
    if (!target) return { dropped: `rollout ${report.rollout} does not cover device ${report.device}` };
    if (target.announced_at === null)
      return { dropped: `rollout ${report.rollout} has not announced to device ${report.device}` };
    const at = this.now();
    if (report.outcome === "activated") {
      const local = report.local_version ?? null;
      this.registry.setModel(report.device, report.model, { hub: report.version, local }, undefined, at);
    }
    const rollout = { rollout: report.rollout };
    // `verified` then `activated` is the usual order; a late `verified` does not undo the outcome.
    if (report.outcome === "verified" && target.state !== "announced") return rollout;
    this.db
      .query("UPDATE rollout_devices SET state = ?, reason = ?, reported_at = ? WHERE rollout = ? AND device = ?")
      .run(report.outcome, report.reason ?? null, at, report.rollout, report.device);
    return rollout;
  }

  /** Starts what is due: the next waves, a halt, the end. Called after each report and on the hub's tick. */
  advance(id: string): void {
    for (;;) {
      const rollout = this.get(id);
      if (rollout?.state !== "running") return;
      if (rollout.wave === 0) {
        this.startWave(rollout, 1);
        continue;
      }
      const past = this.pastLimit(rollout);
      if (past) {
        this.end(rollout, "halted", past);
        return;
      }
      const outstanding = this.db
        .query<{ n: number }, [string, number]>(
          "SELECT count(*) AS n FROM rollout_devices WHERE rollout = ? AND wave = ? AND state = 'announced'",
        )
        .get(id, rollout.wave)!.n;
      const since = rollout.wave_resumed_at ?? rollout.wave_started_at ?? 0;
      const timedOut = this.now() - since >= rollout.wave_timeout_ms;
      if (outstanding > 0 && !timedOut) return;
      if (outstanding > 0) this.logger.warn("wave timed out", { rollout: id, wave: rollout.wave, silent: outstanding });
      if (rollout.wave >= rollout.waves.length) {
        this.end(
          rollout,
          "completed",
          outstanding > 0 ? `${outstanding} device(s) of the last wave had not reported when it timed out` : null,
        );
        return;
      }
      this.startWave(rollout, rollout.wave + 1);
    }
  }

  /** Advances every running rollout: wave timeouts pass with time, not with messages. */
  tick(): void {
    for (const { id } of this.db.query<{ id: string }, []>("SELECT id FROM rollouts WHERE state = 'running'").all())
      this.advance(id);
  }

  pause(id: string): RolloutRow {
    return this.control(id, "pause", ["running"], "paused");
  }

  /**
   * Goes on from a pause or a halt. A halt is lifted only while the failures, late reports counted, are within
   * the limit: `maxFailures` raises it (a person's call); past it the rollout stays halted and nothing changes.
   * The current wave's silent devices get a whole wave timeout from now: a person resumes to hear from them,
   * not to have the time spent stopped count them out at once.
   */
  resume(id: string, maxFailures?: number): RolloutRow {
    const rollout = this.get(id);
    const past = rollout?.state === "halted" ? this.pastLimit(rollout, maxFailures) : undefined;
    if (past)
      throw new EdgetrainError("conflict", `rollout ${id} is still past its failure limit: ${past}`, {
        hint: "wait for the devices' late reports, resume it with a higher --max-failures, or abort it",
        details: { rollout: id, state: "halted" },
      });
    this.db.transaction(() => {
      this.control(id, "resume", ["paused", "halted"], "running");
      const halts = rollout!.halts.map((halt) =>
        halt.resumed_at === null ? { ...halt, resumed_at: this.now() } : halt,
      );
      this.db
        .query(
          `UPDATE rollouts SET max_failures = coalesce(?, max_failures), halts = ?, wave_resumed_at = ?,
             reason = CASE WHEN ? THEN NULL ELSE reason END, ended_at = NULL WHERE id = ?`,
        )
        .run(maxFailures ?? null, JSON.stringify(halts), this.now(), rollout!.state === "halted", id);
    })();
    this.logger.info("rollout resumed", { rollout: id, from: rollout!.state, max_failures: maxFailures });
    this.advance(id);
    return this.get(id)!;
  }

  /** Stops it: devices not yet announced never will be; those announced keep it (`hub rollback` takes it back). */
  abort(id: string): RolloutRow {
    const row = this.control(id, "abort", ["running", "paused", "halted"], "aborted");
    this.db.query("UPDATE rollout_devices SET state = 'cancelled' WHERE rollout = ? AND state = 'waiting'").run(id);
    this.db.query("UPDATE rollouts SET ended_at = ?, reason = 'aborted by a person' WHERE id = ?").run(this.now(), id);
    return this.get(id) ?? row;
  }

  private startWave(rollout: RolloutRow, wave: number): void {
    const file = this.files.get(rollout.model, rollout.version);
    if (!file) {
      this.end(rollout, "halted", `the hub no longer has version ${rollout.version} of model ${rollout.model}`);
      return;
    }
    const at = this.now();
    const devices = this.db
      .query<{ device: string }, [string, number]>(
        "SELECT device FROM rollout_devices WHERE rollout = ? AND wave = ? AND state = 'waiting'",
      )
      .all(rollout.id, wave);
    const announcements = devices.map(({ device }) =>
      signedAnnouncement(this.keys, this.publicUrl(), rollout.id, file, device, at),
    );
    this.db.transaction(() => {
      const update = this.db.query(
        `UPDATE rollout_devices SET state = 'announced', announcement = ?, announced_at = ?
         WHERE rollout = ? AND device = ?`,
      );
      for (const announcement of announcements)
        update.run(JSON.stringify(announcement), at, rollout.id, announcement.device);
      this.db
        .query("UPDATE rollouts SET wave = ?, wave_started_at = ?, wave_resumed_at = NULL WHERE id = ?")
        .run(wave, at, rollout.id);
    })();
    // Published after the commit: a hub that stops in between announces again on its next start (see republish).
    for (const announcement of announcements) this.announce(announcement);
    this.logger.info("wave started", { rollout: rollout.id, wave, devices: devices.length });
  }

  /**
   * A device in a newer rollout of the same model leaves the older ones: its retained announcement is the
   * newer one now, and an older rollout must neither wait for it nor announce to it later (a halted one too:
   * a person may resume it).
   */
  private supersede(id: string, model: string): string[] {
    const older = this.db
      .query<{ id: string }, [string, string]>(
        "SELECT id FROM rollouts WHERE model = ? AND id != ? AND state IN ('running','paused','halted')",
      )
      .all(model, id)
      .map((row) => row.id);
    const cancel = this.db.query(
      `UPDATE rollout_devices SET state = 'cancelled', reason = ?
       WHERE rollout = ? AND state IN ('waiting','announced')
         AND device IN (SELECT device FROM rollout_devices WHERE rollout = ?)`,
    );
    for (const rollout of older) cancel.run(`superseded by rollout ${id}`, rollout, id);
    return older;
  }

  /** Publishes again what `unanswered()` lists: retained messages a broker lost come back. Returns them. */
  republish(): ModelAnnouncement[] {
    const announcements = this.unanswered();
    for (const announcement of announcements) this.announce(announcement);
    return announcements;
  }

  private end(rollout: RolloutRow, state: RolloutState, reason: string | null): void {
    const at = this.now();
    const halts =
      state === "halted" ? [...rollout.halts, { at, reason: reason ?? "", resumed_at: null }] : rollout.halts;
    this.db
      .query("UPDATE rollouts SET state = ?, reason = ?, ended_at = ?, halts = ? WHERE id = ?")
      .run(state, reason, at, halts.length ? JSON.stringify(halts) : null, rollout.id);
    const log = state === "halted" ? this.logger.warn : this.logger.info;
    log.call(this.logger, `rollout ${state}`, {
      rollout: rollout.id,
      model: rollout.model,
      version: rollout.version,
      reason,
    });
  }

  private control(id: string, action: string, from: RolloutState[], to: RolloutState): RolloutRow {
    const rollout = this.get(id);
    if (!rollout) throw new EdgetrainError("not_found", `no rollout "${id}"`, { details: { rollout: id } });
    if (!from.includes(rollout.state))
      throw new EdgetrainError("conflict", `rollout ${id} is ${rollout.state}: it cannot ${action}`, {
        details: { rollout: id, state: rollout.state },
      });
    this.db.query("UPDATE rollouts SET state = ? WHERE id = ?").run(to, id);
    return this.get(id)!;
  }
}
