import { fstatSync } from "node:fs";
import type { Environment } from "../environment.ts";
import type { Level } from "./logger.ts";

/** sd-daemon.h's priorities: journald files a line of a stream under its `<N>` prefix, and any other as info. */
const PRIORITY: Record<Level, number> = { error: 3, warn: 4, info: 6, debug: 7 };

/**
 * Whether `fd` is the journal stream JOURNAL_STREAM names: the variable is inherited by a child whose stderr
 * goes to a file or a pipe, so sd_journal's docs say to compare it with the descriptor's device and inode.
 */
export function isJournalStream(stream: Environment["journalStream"], fd = 2): boolean {
  if (!stream) return false;
  try {
    const stat = fstatSync(fd, { bigint: true });
    return stat.dev === stream.device && stat.ino === stream.inode;
  } catch {
    return false;
  }
}

/** `text`'s lines, each with the priority journald files it under, newline-terminated. */
export function withPriority(text: string, level: Level): string {
  return text
    .split("\n")
    .map((line) => `<${PRIORITY[level]}>${line}\n`)
    .join("");
}
