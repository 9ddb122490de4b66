import { accessSync, constants } from "node:fs";
import { join } from "node:path";
import { EdgetrainError, messageOf } from "../errors.ts";
import type { Clock, Logger } from "../plugin-api.ts";
import { isDiskFull } from "./disk-full.ts";
import { type DiskUsage, diskUsage, formatBytes, freeSpace } from "./disk-usage.ts";

/**
 * Below this much free space the home counts as full: the state database's journal, a run's folder and a model need
 * room to be written whole.
 */
export const FULL_BELOW_BYTES = 1024 * 1024;
/** Space counts as back only with twice that free, so that a disk at the line does not flap between full and not. */
const BACK_ABOVE_BYTES = 2 * FULL_BELOW_BYTES;
/** Writes kept for when space returns; past this the newest are dropped, so a long outage cannot grow memory. */
const MAX_WAITING_WRITES = 1000;
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 10_000;

/** The condition as an error, exit code 5: a start refused, or `demo --once` giving up. */
export function diskFullError(home: string, consequence = "nothing was started"): EdgetrainError {
  const free = freeSpace(home)?.bytes;
  return new EdgetrainError(
    "disk_full",
    `the disk of the home ${home} is full ` +
      `(${free === undefined ? "free space unknown" : `${formatBytes(free)} free`}): ${consequence}`,
    {
      details: { home, free_bytes: free ?? null },
      hint:
        `free space there (old run folders under ${join(home, "runs")}, rotated logs), or use another home with ` +
        `--home`,
    },
  );
}

/**
 * Whether the home's disk has less than FULL_BELOW_BYTES free; false where statfs cannot tell, and where the home (or
 * the folder it would be made in) cannot be written at all: a read-only disk shows no free space either, and the
 * folder or file that cannot be made there says why.
 */
export function diskIsFull(home: string): boolean {
  const free = freeSpace(home);
  return free !== undefined && free.bytes < FULL_BELOW_BYTES && writable(free.path);
}

function writable(folder: string): boolean {
  try {
    accessSync(folder, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The condition as `/v1/status` shows it. */
export interface DiskStatus {
  home: string;
  full: boolean;
  /** Free bytes on the home's file system now; null where statfs cannot tell. */
  free_bytes: number | null;
  /** When the disk was found full. */
  since?: string;
  /** In words: `the disk of the home /x is full (0 B free)`. */
  message?: string;
  /** Writes waiting for space (events, run records), retried with backoff. */
  waiting_writes: number;
  /** Writes given up since the disk filled: run progress, usage counts, and events past the waiting limit. */
  dropped_writes: number;
}

/**
 * How writes that a full disk refuses are handled. One-shot commands write and let a failure end them; the daemon keeps
 * going.
 */
export interface WritePolicy {
  /** A write that should not be lost: done now, or, on a full disk, kept and done again once space returns. */
  retry(what: string, write: () => void): void;
  /** A write whose loss costs little: done now, or dropped on a full disk. Whether it was written. */
  attempt(what: string, write: () => void): boolean;
}

export const writeNow: WritePolicy = {
  retry: (_what, write) => write(),
  attempt: (_what, write) => (write(), true),
};

/**
 * The one owner of "the disk of the home is full" (ENOSPC, SQLITE_FULL, or less than FULL_BELOW_BYTES free).
 * It says so once in the log, keeps the writes that must not be lost and retries them with backoff,
 * checking free space with statfs, and clears the condition by itself once space is back. The scheduler
 * asks it before starting a run; predictions never do, so they go on.
 */
export class DiskSpace implements WritePolicy {
  private fullSince?: number;
  private freeWhenFull?: number;
  private readonly waiting: Array<{ what: string; write: () => void }> = [];
  private dropped = 0;
  private delayMs = RETRY_FIRST_MS;
  private timer?: unknown;
  private disposed = false;
  private readonly listeners = new Set<(status: DiskStatus) => void>();
  /** Asked before a failed write is blamed on space: a home deleted or unwritable fails writes too. */
  private homeLost: () => boolean = () => false;

  private readonly clock: Clock;

  constructor(private readonly options: { home: string; logger: Logger; clock: Clock }) {
    this.clock = options.clock;
  }

  /** The home's disk now, for the metrics; undefined where statfs cannot tell. */
  usage(): DiskUsage | undefined {
    return diskUsage(this.options.home);
  }

  get full(): boolean {
    return this.fullSince !== undefined;
  }

  /** Measures now: false while the disk is full, entering the condition when free space fell below the line. */
  hasRoom(): boolean {
    if (this.full) return false;
    const free = freeSpace(this.options.home)?.bytes;
    if (free !== undefined && free < FULL_BELOW_BYTES) this.enter(free);
    return !this.full;
  }

  /**
   * `lost` says whether the home is gone now (and, the first time, has that said): its loss wins over a
   * full disk, whatever a failed write's error says, and that write is dropped, not kept for later.
   */
  checkHomeFirst(lost: () => boolean): void {
    this.homeLost = lost;
  }

  /** True when `error` is a write refused for lack of space, not a home that is gone; the condition is entered then. */
  noticed(error: unknown): boolean {
    if (!isDiskFull(error) || this.homeLost()) return false;
    this.enter(freeSpace(this.options.home)?.bytes, error);
    return true;
  }

  retry(what: string, write: () => void): void {
    if (this.full && !this.disposed) {
      this.keep(what, write);
      return;
    }
    try {
      write();
    } catch (error) {
      if (this.homeLost()) return;
      if (!this.noticed(error)) throw error;
      if (this.disposed) this.dropped++;
      else this.keep(what, write);
    }
  }

  attempt(what: string, write: () => void): boolean {
    if (this.full) return this.drop(what);
    try {
      write();
      return true;
    } catch (error) {
      if (this.homeLost()) return false;
      if (!this.noticed(error)) throw error;
      return this.drop(what);
    }
  }

  /** The reason a run waits, the same for the whole outage so that it is recorded once. */
  message(): string {
    return (
      `the disk of the home ${this.options.home} is full ` +
      `(${this.freeWhenFull === undefined ? "free space unknown" : `${formatBytes(this.freeWhenFull)} free`})`
    );
  }

  status(): DiskStatus {
    const free = freeSpace(this.options.home)?.bytes ?? null;
    return {
      home: this.options.home,
      full: this.full,
      free_bytes: free,
      ...(this.fullSince !== undefined
        ? { since: new Date(this.fullSince).toISOString(), message: this.message() }
        : {}),
      waiting_writes: this.waiting.length,
      dropped_writes: this.dropped,
    };
  }

  /** Called when the disk fills and when space is back; returns the unsubscribe function. */
  onChange(listener: (status: DiskStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Stops retrying: writes still waiting get one last try (a disk under the line may still take them); the rest are
   * given up, with one line.
   */
  dispose(): void {
    this.disposed = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.writeWaiting();
    if (this.waiting.length)
      this.options.logger.warn(`${this.waiting.length} write(s) waiting for space were given up: ${this.message()}`, {
        home: this.options.home,
      });
    this.dropped += this.waiting.splice(0).length;
  }

  private enter(free: number | undefined, error?: unknown): void {
    if (this.full || this.disposed) return;
    this.fullSince = this.clock.now();
    this.freeWhenFull = free;
    this.delayMs = RETRY_FIRST_MS;
    this.options.logger.error(
      `${this.message()}: no new runs start; predictions go on; retrying every ` +
        `${RETRY_FIRST_MS / 1000}–${RETRY_MAX_MS / 1000} s until ${formatBytes(BACK_ABOVE_BYTES)} are free`,
      {
        home: this.options.home,
        free_bytes: free ?? null,
        ...(error !== undefined ? { error: messageOf(error) } : {}),
      },
    );
    this.schedule();
    this.changed();
  }

  private keep(what: string, write: () => void): void {
    if (this.waiting.length < MAX_WAITING_WRITES) this.waiting.push({ what, write });
    else this.drop(what);
  }

  private drop(what: string): false {
    if (this.dropped++ === 0)
      this.options.logger.warn(`${what} and other writes that can be lost are dropped while ${this.message()}`, {
        home: this.options.home,
      });
    return false;
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (this.disposed || this.recover()) return;
      this.delayMs = Math.min(this.delayMs * 2, RETRY_MAX_MS);
      this.schedule();
    }, this.delayMs);
  }

  /** Space is back once statfs shows enough free and the writes that waited went through, in order. */
  private recover(): boolean {
    const free = freeSpace(this.options.home)?.bytes;
    if ((free !== undefined && free < BACK_ABOVE_BYTES) || !this.writeWaiting()) return false;
    const since = this.fullSince!;
    this.options.logger.info(
      `the disk of the home ${this.options.home} has space again ` +
        `(${free === undefined ? "free space unknown" : `${formatBytes(free)} free`}): runs start again`,
      {
        home: this.options.home,
        full_since: new Date(since).toISOString(),
        dropped_writes: this.dropped,
      },
    );
    this.fullSince = this.freeWhenFull = undefined;
    this.dropped = 0;
    this.changed();
    return true;
  }

  /** The waiting writes, oldest first; false when the disk refused one again. */
  private writeWaiting(): boolean {
    while (this.waiting.length) {
      const next = this.waiting[0]!;
      try {
        next.write();
      } catch (error) {
        if (isDiskFull(error)) return false;
        this.options.logger.warn(`could not write ${next.what}, which waited for space`, { error: messageOf(error) });
      }
      this.waiting.shift();
    }
    return true;
  }

  private changed(): void {
    const status = this.status();
    for (const listener of this.listeners) {
      try {
        listener(status);
      } catch (error) {
        this.options.logger.warn("a listener of the disk space condition failed", { error: messageOf(error) });
      }
    }
  }
}
