import { causeChain } from "../errors.ts";
import { isDiskFull } from "../files/disk-full.ts";

/**
 * Whether a deploy broke on the machine rather than on the model: an error of the operating system (a folder
 * it may not write, a full disk, EIO, a file where a folder should be), or SQLite's full disk, itself or as
 * the cause of a wrapping error. Once an operator removes the cause the same deploy can succeed, so it is
 * tried again at the next start; anything else (a step that refused, a model that does not load, a bad step
 * option) would fail the same way again and is final.
 */
export function isEnvironmental(error: unknown): boolean {
  if (isDiskFull(error)) return true;
  // Node's system errors carry the call that failed (`mkdir`, `open`, `rename`…) beside their errno code.
  for (const current of causeChain(error)) {
    if (typeof current !== "object") return false;
    const { code, syscall } = current as { code?: unknown; syscall?: unknown };
    if (typeof code === "string" && typeof syscall === "string") return true;
  }
  return false;
}
