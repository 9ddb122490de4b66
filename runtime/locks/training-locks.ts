import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { isOwnerAlive, readLockOwner } from "./lockfile.ts";

/** Each training run holds `<home>/locks/training-<run>.lock` while it trains. */
function trainingLockNames(locksDir: string): string[] {
  try {
    return readdirSync(locksDir).filter((name) => name.startsWith("training-") && name.endsWith(".lock"));
  } catch {
    return [];
  }
}

function isHeld(file: string): boolean {
  const owner = readLockOwner(file);
  return owner !== undefined && isOwnerAlive(owner);
}

/** Training runs in progress: their locks in the home's locks/ folder, owners alive. */
export function liveTrainingLocks(locksDir: string): string[] {
  return trainingLockNames(locksDir).filter((name) => isHeld(join(locksDir, name)));
}

/** Removes the locks of training runs whose process is gone (killed, crashed); returns the names removed. */
export function removeDeadTrainingLocks(locksDir: string): string[] {
  return trainingLockNames(locksDir).filter((name) => {
    if (isHeld(join(locksDir, name))) return false;
    try {
      rmSync(join(locksDir, name), { force: true });
      return true;
    } catch {
      // Tidying only: a lock that cannot be removed is not held, and does not stop the start.
      return false;
    }
  });
}
