import { mkdirSync } from "node:fs";
import { EdgetrainError, messageOf } from "../errors.ts";

/**
 * Makes the home and its folders, saying why they cannot be made (a path under /proc, a read-only disk) as a usage
 * error naming the home (exit 2) rather than crashing. The CLI and the daemon's start both make homes through it.
 */
export function makeHomeFolder(home: string, folders: readonly string[]): void {
  try {
    for (const folder of folders) mkdirSync(folder, { recursive: true });
  } catch (error) {
    throw homeError(home, `home ${home} cannot be created: ${messageOf(error)}`);
  }
}

/** A home that cannot be used where it is given. */
export function homeError(home: string, message: string, hint?: string): EdgetrainError {
  return new EdgetrainError("usage", message, { hint, details: { home } });
}
