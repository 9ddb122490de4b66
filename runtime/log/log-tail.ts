import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { type Level, type LogLine, levelAtLeast } from "./logger.ts";

const TAIL_BYTES = 512 * 1024;

/**
 * The newest lines of a JSON-lines log at or above `level`, of one job if asked; reads only the file's
 * tail, and the tail of the file rotated before it (`<file>.1`) when the current one has too few.
 */
export function readLogTail(file: string, filter: { limit: number; level?: Level; job?: string }): LogLine[] {
  const lines = tailOf(file, filter);
  if (lines.length >= filter.limit) return lines;
  return [...tailOf(`${file}.1`, filter), ...lines].slice(-filter.limit);
}

function tailOf(file: string, filter: { limit: number; level?: Level; job?: string }): LogLine[] {
  let text: string;
  try {
    const fd = openSync(file, "r");
    try {
      const size = fstatSync(fd).size;
      const length = Math.min(size, TAIL_BYTES);
      const buffer = Buffer.alloc(length);
      readSync(fd, buffer, 0, length, size - length);
      text = buffer.toString("utf8");
      // The first line may be cut in half by the tail.
      if (length < size) text = text.slice(text.indexOf("\n") + 1);
    } finally {
      closeSync(fd);
    }
  } catch {
    return [];
  }
  const lines: LogLine[] = [];
  for (const raw of text.split("\n")) {
    if (!raw) continue;
    try {
      const line = JSON.parse(raw) as LogLine;
      if (filter.level && !levelAtLeast(line.level, filter.level)) continue;
      if (filter.job && line.job !== filter.job) continue;
      lines.push(line);
    } catch {
      // A line being written right now, or not ours.
    }
  }
  return lines.slice(-filter.limit);
}
