import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import type { DaemonStatus } from "../api/contract.ts";
import type { Profile } from "../config/schema.ts";
import { ConflictClearance, describePredictors, UnattendedAsker } from "../conflicts/clearance.ts";
import type { ServingActivity } from "../conflicts/predictors.ts";
import { messageOf } from "../errors.ts";
import type { EventBus, EventPayloads, Events } from "../events/bus.ts";
import { writeAtomically } from "../files/write-atomically.ts";
import type { Logger, PlacedFile, PredictorClearance } from "../plugin-api.ts";
import { systemClock } from "../plugins/context.ts";
import type { StateDatabase } from "../state/database.ts";
import {
  closeFileCopy,
  type FileCopy,
  latestFileCopiesOf,
  markFileCopyDone,
  markFileCopyWaiting,
  type NewFileCopy,
  pendingFileCopies,
  recordFileCopy,
  writtenFileCopy,
} from "../state/file-copies.ts";

/** The model store as the copies see it: which version serves, and where a version's file is. */
export interface ServingVersions {
  activeVersion(model: string): number | undefined;
  version(model: string, version: number): { path: string } | undefined;
}

export interface FileCopiesParts {
  state: StateDatabase;
  /** The profile in force: a reload changes the predictors and policies the retries go by. */
  profile: () => Profile;
  home: string;
  logger: Logger;
  events: Events;
  /** /proc, or a recorded tree in tests. */
  procRoot?: string;
  serving?: ServingActivity;
  /** The store the activations happen in (a function: the daemon opens it after the copies). */
  versions: () => ServingVersions;
}

type CopyEvent = "copy.pending" | "copy.written" | "copy.superseded";
type Noted = Pick<FileCopy, "model" | "version" | "target" | "kind" | "reason"> & { attempts?: number };

/**
 * Model files placed for predictors that read files themselves (copy-to-dir). A copy its job's live
 * predictors hold up is kept pending in the state database, not dropped: the daemon retries it each time
 * they go quiet, until it is written or a newer copy to the same file supersedes it, so the predictors'
 * folder never stays on an old version. Each activation of the model, rollbacks included, puts the serving
 * version's file there (a rollback the file its copy replaced) and supersedes what waited for another one.
 */
export class FileCopies {
  /** Deploys under way, per model, and whether one of them activated a version. */
  private readonly deploys = new Map<string, { count: number; activated: boolean }>();

  constructor(private readonly parts: FileCopiesParts) {}

  /** Follows the model store's activations and rollbacks, whichever road they came by; returns the unsubscribe. */
  follow(bus: EventBus): () => void {
    return bus.subscribe((event) => {
      const { type, data } = event;
      if (type === "model.activated") this.safely(data.model, () => this.activated(data.model, data.version));
      if (type === "model.rolled_back") this.safely(data.model, () => this.rolledBack(data.model, data.from, data.to));
    });
  }

  /**
   * A deploy of the model starts: its steps place its files in their own order, so an activation among them
   * is followed when it ends (`ended`), unless a stop cut it short (it resumes at the next start, steps and all).
   */
  deploying(model: string): { ended(cutShort: boolean): void } {
    const deploy = this.deploys.get(model) ?? { count: 0, activated: false };
    deploy.count++;
    this.deploys.set(model, deploy);
    return {
      ended: (cutShort) => {
        if (--deploy.count > 0) return;
        this.deploys.delete(model);
        if (!deploy.activated || cutShort) return;
        this.safely(model, () => {
          const active = this.parts.versions().activeVersion(model);
          if (active !== undefined) this.putServing(model, active, `version ${active} was activated`);
        });
      },
    };
  }

  /** The model's version `version` serves now: its folders get its file, or keep it, and nothing older waits. */
  activated(model: string, version: number): void {
    const deploy = this.deploys.get(model);
    if (deploy) deploy.activated = true;
    else this.putServing(model, version, `version ${version} was activated`);
  }

  /** A deploy step's copy, once the job's clearance said whether it may be written now. */
  place(copy: NewFileCopy, clearance: PredictorClearance): PlacedFile {
    const { db } = this.parts.state;
    if (!clearance.clear) return this.keepPending(copy, clearance.message ?? "its predictors are live");
    try {
      this.write(copy);
    } catch (error) {
      return this.keepPending(copy, `cannot write it: ${messageOf(error)}`);
    }
    this.recorded(recordFileCopy(db, copy, "done"));
    return { written: true, pending: false, message: `wrote ${copy.target}` };
  }

  /** Writes the pending copies whose job's predictors are quiet now; how many were written. */
  retry(): number {
    let written = 0;
    const looked = new Map<string, { clear: boolean; predictors: string }>();
    for (const copy of pendingFileCopies(this.parts.state.db)) {
      const id = `${copy.job}/${copy.key ?? ""}`;
      if (!looked.has(id)) {
        const { clear, predictors } = this.clearance().writableNow({ job: copy.job, key: copy.key });
        looked.set(id, { clear, predictors: describePredictors(predictors) });
      }
      const now = looked.get(id)!;
      if (!now.clear) this.waiting(copy, `waiting for ${now.predictors} to go quiet`, false);
      else if (this.retryOne(copy)) written++;
    }
    return written;
  }

  /**
   * The model went back from version `from` to `to`: a file a copy of `from` wrote gets the file it replaced
   * (kept in previous_dir) back, now or once the predictors go quiet; any other, as at an activation of `to`.
   */
  rolledBack(model: string, from: number, to: number): void {
    const reason = `version ${from} was rolled back`;
    for (const latest of latestFileCopiesOf(this.parts.state.db, model)) {
      const { kind, version, state, previous } = latest;
      if (kind === "copy" && version === from && state === "done" && previous && existsSync(previous)) {
        this.placeNow({ ...latest, version: to, kind: "restore", source: previous });
      } else this.putFile(latest, to, reason);
    }
  }

  /** Copies still waiting, oldest first: what `status` and the TUI show. */
  pending(): DaemonStatus["copies"] {
    return pendingFileCopies(this.parts.state.db).map((copy) => ({
      model: copy.model,
      version: copy.version,
      job: copy.job,
      ...(copy.key !== undefined ? { key: copy.key } : {}),
      target: copy.target,
      restore: copy.kind === "restore",
      since: new Date(copy.created_at).toISOString(),
      attempts: copy.attempts,
      ...(copy.reason !== undefined ? { reason: copy.reason } : {}),
    }));
  }

  /** The activation stands whatever happens to its files: a failure here is said, not thrown at it. */
  private safely(model: string, act: () => void): void {
    try {
      act();
    } catch (error) {
      const what = `could not put the serving version of model ${model} in its folders`;
      this.parts.logger.warn(what, { error: messageOf(error) });
    }
  }

  private putServing(model: string, version: number, reason: string): void {
    for (const latest of latestFileCopiesOf(this.parts.state.db, model)) this.putFile(latest, version, reason);
  }

  /**
   * `latest` (the newest decision about a file) for another version is superseded if it still waits, and
   * the file gets `version`'s from the store unless it holds it already. Nothing to do when it is `version`'s.
   */
  private putFile(latest: FileCopy, version: number, reason: string): void {
    if (latest.version === version) return;
    const { db } = this.parts.state;
    if (latest.state === "pending") {
      closeFileCopy(db, latest.id, "superseded", reason);
      this.note("copy.superseded", { ...latest, reason });
    }
    const held = writtenFileCopy(db, latest.target);
    if (held?.model === latest.model && held.version === version) return;
    const { model, job, key, target } = latest;
    const source = this.parts.versions().version(model, version)?.path;
    if (source === undefined || !existsSync(source)) {
      const keeps = held ? `keeps version ${held.version}` : "is not written";
      const gone = source ?? `version ${version}'s folder`;
      this.parts.logger.warn(`model ${model} version ${version} serves, but ${target} ${keeps}: ${gone} is gone`);
      return;
    }
    const previous = latest.previous ?? held?.previous;
    this.placeNow({ model, version, job, key, kind: "copy", source, target, ...(previous ? { previous } : {}) });
  }

  /** A copy or restore the daemon decided on itself: written now if the predictors allow, else pending. */
  private placeNow(copy: NewFileCopy): void {
    const { clear, predictors } = this.clearance().writableNow({ job: copy.job, key: copy.key });
    const message = clear ? undefined : `waiting for ${describePredictors(predictors)} to go quiet`;
    this.place(copy, { clear, message });
  }

  private retryOne(copy: FileCopy): boolean {
    const { db } = this.parts.state;
    if (!existsSync(copy.source)) {
      const reason = `its source ${copy.source} is gone`;
      closeFileCopy(db, copy.id, "failed", reason);
      const what = `the copy of model ${copy.model} version ${copy.version} to ${copy.target}`;
      this.parts.logger.warn(`gave up ${what}: ${reason}`);
      return false;
    }
    try {
      this.write(copy);
    } catch (error) {
      this.waiting(copy, `cannot write it: ${messageOf(error)}`, true);
      return false;
    }
    markFileCopyDone(db, copy.id);
    this.note("copy.written", { ...copy, attempts: copy.attempts + 1 });
    return true;
  }

  /**
   * Atomically, a copy after keeping the file it replaces: readers see the old file or the new one, never a
   * gap. A restore keeps nothing: it puts back the kept file, which stays kept.
   */
  private write(copy: NewFileCopy): void {
    mkdirSync(dirname(copy.target), { recursive: true });
    if (copy.kind === "copy" && copy.previous !== undefined && existsSync(copy.target)) {
      mkdirSync(dirname(copy.previous), { recursive: true });
      writeAtomically(copy.previous, readFileSync(copy.target));
    }
    writeAtomically(copy.target, readFileSync(copy.source));
  }

  private keepPending(copy: NewFileCopy, reason: string): PlacedFile {
    this.recorded(recordFileCopy(this.parts.state.db, copy, "pending", reason));
    const what = copy.kind === "restore" ? `the rollback of ${copy.target}` : copy.target;
    const message = `${what} pending (${reason}); retried when its predictors go quiet`;
    return { written: false, pending: true, message };
  }

  private recorded({ copy, superseded }: ReturnType<typeof recordFileCopy>): void {
    for (const older of superseded) this.note("copy.superseded", older);
    if (copy.state === "done") this.note("copy.written", { ...copy, attempts: 1 });
    else this.note("copy.pending", copy);
  }

  /** Keeps the newest reason a copy waits for; a reason that has not changed is not written again. */
  private waiting(copy: FileCopy, reason: string, attempted: boolean): void {
    if (reason !== copy.reason || attempted) markFileCopyWaiting(this.parts.state.db, copy.id, reason, attempted);
  }

  private clearance(): ConflictClearance {
    const { state, home, procRoot, serving, logger } = this.parts;
    return new ConflictClearance({
      profile: this.parts.profile(),
      home,
      clock: systemClock,
      asker: new UnattendedAsker(),
      logger,
      procRoot,
      serving,
      record: (type, data) => state.recordEvent(type, data),
      by: "copy-to-dir",
      doing: "writes its model files",
    });
  }

  /** An event for clients and the record, and a line in the log. */
  private note(type: CopyEvent, copy: Noted): void {
    const { model, version, target, reason = "", attempts = 1 } = copy;
    const base = { model, version, target, ...(copy.kind === "restore" ? { restore: true } : {}) };
    const data: EventPayloads[CopyEvent] = type === "copy.written" ? { ...base, attempts } : { ...base, reason };
    this.parts.state.recordEvent(type, data);
    this.parts.events.emit(type, data);
    const what =
      copy.kind === "restore"
        ? `the rollback of model ${model} to version ${version} in ${target} (the replaced file put back)`
        : `the copy of model ${model} version ${version} to ${target}`;
    const { logger } = this.parts;
    if (type === "copy.pending") logger.warn(`${what} is pending: ${reason}; retried when its predictors go quiet`);
    if (type === "copy.superseded") logger.info(`${what} is superseded: ${reason}`);
    if (type === "copy.written") logger.info(`${what}: written`, { attempts });
  }
}
