import { causeChain } from "../errors.ts";

/** errno codes of a write refused for lack of space: the disk itself, or the user's quota on it. */
const NO_SPACE_CODES = new Set(["ENOSPC", "EDQUOT", "SQLITE_FULL"]);

/**
 * Errors that lost their code on the way (a training thread posts its failure as text) still say it in
 * words: Node's "ENOSPC: no space left on device" and SQLite's "database or disk is full".
 */
const NO_SPACE_TEXT = /\bENOSPC\b|\bEDQUOT\b|no space left on device|disk quota exceeded|database or disk is full/i;

/**
 * Whether `error` says the disk is full: ENOSPC from the file system, SQLITE_FULL from the state
 * database, or either as the cause of a wrapping error. A write that failed this way may succeed
 * once space returns; any other failure is a different fault.
 */
export function isDiskFull(error: unknown): boolean {
  for (const current of causeChain(error)) {
    if (typeof current === "string") return NO_SPACE_TEXT.test(current);
    if (typeof current !== "object") return false;
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (typeof code === "string" && NO_SPACE_CODES.has(code)) return true;
    if (typeof message === "string" && NO_SPACE_TEXT.test(message)) return true;
  }
  return false;
}
