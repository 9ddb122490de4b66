import { dirname, join } from "node:path";
import type { Profile } from "../config/schema.ts";
import { isDiskFull } from "../files/disk-full.ts";
import { DiskSpace, diskFullError, diskIsFull } from "../files/disk-space.ts";
import { HomeWatch } from "../files/home-watch.ts";
import { makeHomeFolder } from "../files/make-home-folder.ts";
import { acquireLock, type HeldLock } from "../locks/lockfile.ts";
import { removeDeadTrainingLocks } from "../locks/training-locks.ts";
import { type LogConsole, type LogLine, LogSink, logFileOptions } from "../log/logger.ts";
import type { Logger, ResolvedPaths } from "../plugin-api.ts";
import { systemClock } from "../plugins/context.ts";
import { openState, type StateDatabase } from "../state/database.ts";

/** What a daemon holds in its home while it runs. */
export interface DaemonHome {
  lock: HeldLock;
  logs: LogSink;
  logger: Logger;
  disk: DiskSpace;
  state: StateDatabase;
}

/**
 * Refuses a full disk, then makes the home's folders, takes its lock, opens the log, the disk space watch and the state
 * database,
 * and says what it found left over; a failure releases what was opened. `onLine` gets each log line.
 */
export function openHome(
  profile: Profile,
  paths: ResolvedPaths,
  terminal: LogConsole | undefined,
  onLine: (line: LogLine) => void,
): DaemonHome {
  // Checked before anything is made in the home, so that a refused start leaves nothing behind.
  if (diskIsFull(paths.home)) throw diskFullError(paths.home);
  let lock: HeldLock | undefined;
  let logs: LogSink | undefined;
  let disk: DiskSpace;
  let state: StateDatabase;
  try {
    makeHomeFolder(paths.home, [paths.home, paths.data, paths.models, paths.cache, paths.logs, paths.state]);
    lock = acquireLock(join(paths.home, "edgetrain.lock"), `home ${paths.home}`);
    logs = new LogSink({
      level: profile.logging.level,
      ...logFileOptions(profile.logging, paths.logs),
      console: terminal,
      onLine,
    });
    disk = new DiskSpace({ home: paths.home, logger: logs.logger(), clock: systemClock });
    state = openState(paths.state, disk);
  } catch (error) {
    lock?.release();
    logs?.close();
    throw isDiskFull(error) ? diskFullError(paths.home) : error;
  }
  const logger = logs.logger();
  if (lock.replaced)
    logger.warn("took over a stale lock left by a process that is gone", {
      pid: lock.replaced.pid,
      command: lock.replaced.command,
    });
  const deadTrainingLocks = removeDeadTrainingLocks(join(paths.home, "locks"));
  if (deadTrainingLocks.length)
    logger.info("removed the training locks of runs that are gone", { locks: deadTrainingLocks });
  if (state.applied.length) logger.info("state database migrated", { file: state.file, versions: state.applied });
  return { lock, logs, logger, disk, state };
}

/**
 * Watches the home for its loss (its lock or state database gone or replaced, a folder unwritable); a write that
 * fails is put down to that loss first, before the disk's space.
 */
export function watchHome(
  home: string,
  held: Pick<DaemonHome, "lock" | "state" | "disk">,
  onLost: (reason: string) => void,
): HomeWatch {
  const { lock, state, disk } = held;
  const watch = new HomeWatch({ home, files: [lock.path, state.file], writable: [home, dirname(state.file)], onLost });
  disk.checkHomeFirst(() => watch.lostNow());
  return watch;
}
