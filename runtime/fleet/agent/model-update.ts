import type { Database } from "bun:sqlite";
import type { KeyObject } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Profile } from "../../config/schema.ts";
import type { Deployer } from "../../deploy/deployer.ts";
import type { Deployment } from "../../deploy/deployment.ts";
import { EdgetrainError, messageOf } from "../../errors.ts";
import { KeyedQueue } from "../../locks/keyed-queue.ts";
import type { DataTable, Logger, ResolvedPaths } from "../../plugin-api.ts";
import type { ModelActivator } from "../../serving/model-activator.ts";
import { handledAnnouncement, newestHandledAnnouncement, recordAnnouncement } from "../../state/fleet.ts";
import type { ModelStore, ModelVersion } from "../../store/model-store.ts";
import { ModelAnnouncement, type OtaOutcome } from "../protocol.ts";
import { downloadModel } from "./download.ts";
import { healthRows, heldOutForModel } from "./held-out.ts";
import { checkSigned } from "./trust.ts";

export interface ModelUpdateParts {
  device: string;
  trusted: readonly KeyObject[];
  db: Database;
  store: ModelStore;
  activator: ModelActivator;
  /** The profile in force and the deployer built for it: a reload replaces both. */
  current: () => { profile: Profile; paths: ResolvedPaths; deployer: Deployer; autoUpdate: boolean };
  /** How long a download failing for a network reason is tried again (`fleet.download_retry`); default 1 h. */
  downloadRetryMs?: number;
  logger: Logger;
  signal: AbortSignal;
  report: (outcome: {
    rollout: string;
    model: string;
    version: number;
    local_version?: number;
    outcome: OtaOutcome;
    reason?: string;
    scores?: Record<string, unknown>;
  }) => void;
}

type Announcement = ModelAnnouncement;
type Finish = (
  outcome: OtaOutcome,
  extra?: { local?: number; reason?: string; scores?: Record<string, unknown>; final?: boolean },
) => void;

/** Outcomes after which the same announcement is not tried again when the broker delivers it again. */
const FINAL: ReadonlySet<string> = new Set(["verified", "activated", "rejected", "rolled_back", "failed"]);

/**
 * Applies the hub's model announcements. Nothing touches the store before the signature (checked first)
 * and then the file's size and sha256 hold. A verified file becomes a new version (`source: fleet`) and,
 * with auto_update, passes the model's deploy steps; each outcome is reported once per announcement.
 */
export class ModelUpdates {
  private readonly queue = new KeyedQueue();
  /** The download under way per model: a newer announcement stops its retries rather than wait behind them. */
  private readonly downloading = new Map<string, { issuedAt: number; supersede: AbortController }>();

  constructor(private readonly parts: ModelUpdateParts) {}

  handle(raw: unknown): Promise<void> {
    const { device, trusted, logger } = this.parts;
    const checked = checkSigned(raw, ModelAnnouncement, trusted, device);
    if (!checked.ok) {
      const partial = checked.partial ?? {};
      logger.warn(`refused a model announcement: ${checked.reason}`, {
        model: partial.model,
        version: partial.version,
        rollout: partial.rollout,
      });
      const { rollout, model, version } = partial;
      if (
        partial.device === device &&
        typeof rollout === "string" &&
        typeof model === "string" &&
        typeof version === "number"
      ) {
        this.parts.report({ rollout, model, version, outcome: "failed", reason: `refused: ${checked.reason}` });
      }
      return Promise.resolve();
    }
    const announcement = checked.message;
    const under = this.downloading.get(announcement.model);
    if (under && under.issuedAt < Date.parse(announcement.issued_at)) under.supersede.abort();
    return this.queue.run(announcement.model, () => this.apply(announcement));
  }

  private async apply(a: Announcement): Promise<void> {
    const { db, logger } = this.parts;
    const done = handledAnnouncement(db, a);
    if (done && FINAL.has(done.outcome)) {
      logger.debug("model announcement handled already", {
        model: a.model,
        version: a.version,
        rollout: a.rollout,
        outcome: done.outcome,
      });
      return;
    }
    const finish: Finish = (outcome, extra = {}) => {
      // Cut short by a stop: left unrecorded, so the next start takes it up where it is.
      if (this.parts.signal.aborted) return;
      if (extra.final !== false)
        recordAnnouncement(db, { ...a, outcome, local_version: extra.local, reason: extra.reason });
      this.parts.report({
        rollout: a.rollout,
        model: a.model,
        version: a.version,
        ...(extra.local !== undefined && { local_version: extra.local }),
        outcome,
        reason: extra.reason,
        scores: extra.scores,
      });
      const level = outcome === "activated" || outcome === "verified" ? "info" : "warn";
      logger[level](`fleet update of model ${a.model} to version ${a.version}: ${outcome}`, {
        rollout: a.rollout,
        reason: extra.reason,
        local_version: extra.local,
      });
    };
    // A signed announcement stays valid forever: replayed after a newer one, it would take the model back.
    const newest = newestHandledAnnouncement(db, a.model);
    if (newest?.issued_at && newest.issued_at > new Date(a.issued_at).toISOString())
      return finish("failed", {
        reason:
          `superseded: issued ${a.issued_at}, before rollout ${newest.rollout} of version ${newest.version} ` +
          `(issued ${newest.issued_at}) was handled here`,
      });
    try {
      const present = this.parts.store.versions(a.model).find((version) => version.sha256 === a.sha256);
      if (present) return await this.applyPresent(a, present, finish);
      const stored = await this.downloadAndStore(a, finish);
      if (!stored) return;
      const { candidate, heldOut } = stored;
      if (!this.parts.current().autoUpdate)
        return finish("verified", { local: candidate.version, reason: "waits for `edgetrain activate`" });
      await this.deployAndFinish(a, candidate, heldOut, finish);
    } catch (error) {
      finish("failed", { reason: messageOf(error), final: error instanceof EdgetrainError });
    }
  }

  /**
   * The same file is in the store already (a rollback announced by the hub, a second rollout): no download.
   * One the gate or a failed activation turned down here keeps that verdict rather than being forced in.
   */
  private async applyPresent(a: Announcement, present: ModelVersion, finish: Finish): Promise<void> {
    if (this.parts.store.activeVersion(a.model) === present.version)
      return finish("activated", { local: present.version, reason: "serving already" });
    if (present.status === "rejected" || present.status === "rolled_back") {
      const reason = `version ${present.version} with this file was ${present.status.replace("_", " ")} here before`;
      const outcome = present.status === "rejected" ? "rejected" : "rolled_back";
      return finish(outcome, { local: present.version, reason: present.note ?? reason, scores: present.gate });
    }
    if (!this.parts.current().autoUpdate)
      return finish("verified", { local: present.version, reason: "in the store; waits for `edgetrain activate`" });
    if (present.status === "candidate") {
      // Stored but never through its deploy steps (a stop or crash came between): the gate still decides.
      const { profile, paths } = this.parts.current();
      const heldOut = await heldOutForModel(a.model, this.sourceJob(a.model), profile, paths, this.parts.logger);
      return this.deployAndFinish(a, present, heldOut, finish);
    }
    await this.parts.activator.activate(a.model, present.version, `fleet rollout ${a.rollout}`);
    finish("activated", { local: present.version });
  }

  private async deployAndFinish(
    a: Announcement,
    candidate: ModelVersion,
    heldOut: DataTable | undefined,
    finish: Finish,
  ) {
    const deployment = await this.deploy(a, candidate, heldOut);
    const outcome = outcomeOf(deployment, this.parts.store.version(a.model, candidate.version));
    finish(outcome.outcome, { local: candidate.version, reason: deployment.message, scores: outcome.scores });
  }

  private async downloadAndStore(
    a: Announcement,
    finish: Finish,
  ): Promise<{ candidate: ModelVersion; heldOut?: DataTable } | undefined> {
    const { paths, profile } = this.parts.current();
    const incoming = join(paths.models, ".incoming");
    mkdirSync(incoming, { recursive: true });
    const file = join(incoming, `${a.model}-${a.version}-${a.sha256.slice(0, 16)}.onnx`);
    const supersede = new AbortController();
    this.downloading.set(a.model, { issuedAt: Date.parse(a.issued_at), supersede });
    try {
      const { resumedFrom } = await downloadModel({
        url: a.url,
        file,
        size: a.size,
        sha256: a.sha256,
        signal: AbortSignal.any([this.parts.signal, supersede.signal]),
        retryForMs: this.parts.downloadRetryMs,
        onRetry: (error, delayMs) =>
          this.parts.logger.warn(
            `the download of model ${a.model} version ${a.version} failed; trying again in ${delayMs / 1000} s`,
            { rollout: a.rollout, error: messageOf(error) },
          ),
      });
      if (resumedFrom > 0)
        this.parts.logger.info(`resumed the download of model ${a.model} version ${a.version} at byte ${resumedFrom}`);
    } catch (error) {
      if (supersede.signal.aborted && !this.parts.signal.aborted) {
        // Left unrecorded: the newer announcement is handled next, and this one, delivered again, is superseded.
        rmSync(file, { force: true });
        this.parts.logger.info(`the download of model ${a.model} version ${a.version} gave way to a newer one`, {
          rollout: a.rollout,
        });
        return undefined;
      }
      // Retries spent: tried again at the next delivery or start; a refusal or a file that does not match is final.
      finish("failed", { reason: messageOf(error), final: error instanceof EdgetrainError });
      return undefined;
    } finally {
      this.downloading.delete(a.model);
    }
    try {
      const source = this.sourceJob(a.model);
      const heldOut = await heldOutForModel(a.model, source, profile, paths, this.parts.logger);
      const candidate = await this.parts.store.addVersion(
        a.model,
        file,
        {
          source: "fleet",
          fleet: { rollout: a.rollout, version: a.version, issued_at: a.issued_at },
          job: source?.job,
          key: source?.key,
          task: a.task,
          feature_names: a.feature_names,
          classes: a.classes,
          metrics: {},
        },
        heldOut && healthRows(heldOut, a.feature_names),
        a.version,
      );
      return { candidate, heldOut };
    } finally {
      rmSync(file, { force: true });
    }
  }

  private async deploy(a: Announcement, candidate: ModelVersion, heldOut: DataTable | undefined): Promise<Deployment> {
    const { deployer, profile } = this.parts.current();
    const source = this.sourceJob(a.model);
    // The local job's own steps; without one, the gate then activation.
    const steps = source ? profile.jobs[source.job]?.deploy : undefined;
    return deployer.deployStored({
      model: a.model,
      version: candidate.version,
      job: source?.job,
      key: source?.key,
      steps,
      reason: `fleet rollout ${a.rollout}`,
      heldOut,
      logger: this.parts.logger.child({ model: a.model, rollout: a.rollout }),
      signal: this.parts.signal,
    });
  }

  /** The local job (and key) that trains this model, whose data holds the rows the gate compares on. */
  private sourceJob(model: string): { job: string; key?: string } | undefined {
    const { profile } = this.parts.current();
    const kept = this.parts.store
      .versions(model)
      .find((version) => version.job !== undefined && profile.jobs[version.job]);
    if (kept?.job) return { job: kept.job, key: kept.key };
    for (const job of Object.keys(profile.jobs)) {
      if (job === model) return { job };
      if (model.startsWith(`${job}-`)) return { job, key: model.slice(job.length + 1) };
    }
    return undefined;
  }
}

function outcomeOf(
  deployment: Deployment,
  version: ModelVersion | undefined,
): { outcome: OtaOutcome; scores?: Record<string, unknown> } {
  if (deployment.status === "activated") return { outcome: "activated" };
  if (deployment.status === "stored") return { outcome: "verified" };
  if (deployment.status === "rejected") return { outcome: "rejected", scores: version?.gate };
  const rolledBack = deployment.steps.some((step) => step.rolled_back) || version?.status === "rolled_back";
  return { outcome: rolledBack ? "rolled_back" : "failed" };
}
