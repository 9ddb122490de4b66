import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { EdgetrainError } from "../errors.ts";
import { isAlive, processStartTime } from "../os/process-identity.ts";

export interface LockOwner {
  pid: number;
  /** Clock ticks since boot; tells a live owner from a process that reused its pid. */
  start_time?: number;
  host: string;
  command: string;
  created: string;
}

export interface HeldLock {
  path: string;
  owner: LockOwner;
  /** Takes the lock back over if nothing else did meanwhile; never throws. */
  release(): void;
  /** A stale owner whose lock was taken over, for logging. */
  replaced?: LockOwner;
}

export function readLockOwner(path: string): LockOwner | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as LockOwner;
  } catch {
    return undefined;
  }
}

export function isOwnerAlive(owner: LockOwner): boolean {
  // A lock from another host (shared home over NFS) cannot be checked; treat it as held.
  return owner.host !== hostname() || isAlive(owner.pid, owner.start_time);
}

/**
 * Creates `path` atomically holding this process's identity. If a live process holds it, fails with
 * `home_locked` naming that pid; if its owner is dead, or its pid now belongs to another process, takes it over.
 */
export function acquireLock(path: string, what: string): HeldLock {
  const owner: LockOwner = {
    pid: process.pid,
    start_time: processStartTime(process.pid),
    host: hostname(),
    command: process.argv.slice(1).join(" ") || process.argv0,
    created: new Date().toISOString(),
  };
  const temp = `${path}.${process.pid}.tmp`;
  let replaced: LockOwner | undefined;
  try {
    // Inside the try: a full disk creates the file and refuses its content, and the empty file must go too.
    writeFileSync(temp, `${JSON.stringify(owner)}\n`, { mode: 0o644 });
    // link() fails if the lock exists, and the lock is never visible half-written.
    linkSync(temp, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const current = readLockOwner(path);
    if (current && isOwnerAlive(current)) {
      rmSync(temp, { force: true });
      throw new EdgetrainError(
        "home_locked",
        `${what} is locked by pid ${current.pid} (${current.command}) on ${current.host} since ${current.created}`,
        {
          details: { lockfile: path, pid: current.pid },
          hint: `stop that process first, or use another home with --home`,
        },
      );
    }
    replaced = current;
    renameSync(temp, path);
    // Two processes taking over the same stale lock: the last rename wins, the other must step back.
    const now = readLockOwner(path);
    if (now?.pid !== owner.pid)
      throw new EdgetrainError("home_locked", `${what} was taken over by pid ${now?.pid} at the same moment`, {
        details: { lockfile: path },
      });
  } finally {
    rmSync(temp, { force: true });
  }
  return {
    path,
    owner,
    replaced,
    release() {
      try {
        if (readLockOwner(path)?.pid === owner.pid) rmSync(path, { force: true });
      } catch {
        // Releasing runs during shutdown; a missing file is already released.
      }
    },
  };
}
