import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import type { DaemonStatus } from "../api/contract.ts";
import type { Profile } from "../config/schema.ts";
import { ConflictClearance, describePredictors, UnattendedAsker } from "../conflicts/clearance.ts";
import type { ServingActivity } from "../conflicts/predictors.ts";
import { messageOf } from "../errors.ts";
import type { EventPayloads, Events } from "../events/bus.ts";
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
} from "../state/file-copies.ts";

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
}

type CopyEvent = "copy.pending" | "copy.written" | "copy.superseded";
type Noted = Pick<FileCopy, "model" | "version" | "target" | "kind" | "reason"> & { attempts?: number };

/**
 * Model files placed for predictors that read files themselves (copy-to-dir). A copy its job's live
 * predictors hold up is kept pending in the state database, not dropped: the daemon retries it each time
 * they go quiet, until it is written or a newer copy to the same file supersedes it, so the predictors'
 * folder never stays on an old version. A rollback of the model puts the file a copy replaced back.
 */
export class FileCopies {
  constructor(private readonly parts: FileCopiesParts) {}

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
   * The model went back from version `from` to `to`: a copy of `from` still pending is superseded, and one
   * written has the file it replaced (kept in previous_dir) put back, now or once the predictors go quiet.
   */
  rolledBack(model: string, from: number, to: number): void {
    const { db } = this.parts.state;
    for (const latest of latestFileCopiesOf(db, model)) {
      if (latest.version !== from || latest.kind !== "copy") continue;
      if (latest.state === "pending") {
        const reason = `version ${from} was rolled back`;
        closeFileCopy(db, latest.id, "superseded", reason);
        this.note("copy.superseded", { ...latest, reason });
        continue;
      }
      if (!latest.previous || !existsSync(latest.previous)) {
        const why = latest.previous ? `${latest.previous} is gone` : "no previous_dir kept the file it replaced";
        const what = `model ${model} rolled back to version ${to}, but ${latest.target} keeps version ${from}`;
        this.parts.logger.warn(`${what}: ${why}`);
        continue;
      }
      const restore: NewFileCopy = { ...latest, version: to, kind: "restore", source: latest.previous };
      delete restore.previous;
      const { clear, predictors } = this.clearance().writableNow({ job: latest.job, key: latest.key });
      const message = clear ? undefined : `waiting for ${describePredictors(predictors)} to go quiet`;
      this.place(restore, { clear, message });
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

  /** Atomically, after keeping the file it replaces: readers see the old file or the new one, never a gap. */
  private write(copy: NewFileCopy): void {
    mkdirSync(dirname(copy.target), { recursive: true });
    if (copy.previous !== undefined && existsSync(copy.target)) {
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
