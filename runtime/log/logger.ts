import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import type { Logger } from "../plugin-api.ts";

export type Level = "debug" | "info" | "warn" | "error";
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** True when `level` is `minimum` or more severe. */
export function levelAtLeast(level: Level, minimum: Level): boolean {
  return RANK[level] >= RANK[minimum];
}

const SECRET_FIELD = /token|password|secret|authorization/i;

export interface LogSinkOptions {
  level: Level;
  /** JSON-lines file; omitted by one-shot commands that keep no log. */
  file?: string;
  /** Where people read: stderr. */
  console?: { write(text: string): void; isTTY: boolean; color: boolean };
  /** A stricter level for the console than for the file (a progress bar owns the terminal). */
  consoleLevel?: Level;
  /** Every line written, as the file has it: the daemon streams them to the TUI. */
  onLine?: (line: LogLine) => void;
}

export interface LogLine {
  time: string;
  level: Level;
  msg: string;
  [field: string]: unknown;
}

/** A logger writing JSON lines to a file and readable lines to the console; secrets are redacted. */
export class LogSink {
  private fd: number | undefined;
  private level: Level;

  constructor(private readonly options: LogSinkOptions) {
    this.level = options.level;
    if (options.file) {
      mkdirSync(dirname(options.file), { recursive: true });
      this.fd = openSync(options.file, "a");
    }
  }

  setLevel(level: Level) {
    this.level = level;
  }

  logger(fields: Record<string, unknown> = {}): Logger {
    const write = (level: Level) => (message: string, extra?: Record<string, unknown>) => this.write(level, message, { ...fields, ...extra });
    return {
      debug: write("debug"),
      info: write("info"),
      warn: write("warn"),
      error: write("error"),
      child: (more) => this.logger({ ...fields, ...more }),
    };
  }

  close() {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private write(level: Level, message: string, fields: Record<string, unknown>) {
    if (!levelAtLeast(level, this.level)) return;
    const safe = redact(fields);
    const time = new Date();
    const line: LogLine = { time: time.toISOString(), level, msg: message, ...safe };
    if (this.fd !== undefined) writeSync(this.fd, JSON.stringify(line) + "\n");
    this.options.onLine?.(line);
    const console = this.options.console;
    if (console && levelAtLeast(level, this.options.consoleLevel ?? this.level)) console.write(humanLine(time, level, message, safe, console.isTTY && console.color) + "\n");
  }
}

function redact(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, SECRET_FIELD.test(key) ? "[redacted]" : value]));
}

const COLORS: Record<Level, string> = { debug: "\x1b[2m", info: "\x1b[36m", warn: "\x1b[33m", error: "\x1b[31m" };

/**
 * A field as people read it. Metrics come out of training as 0.7388888888888889; four significant digits
 * say as much on a terminal, and the JSON-lines file keeps every digit.
 */
export function fieldText(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value) && !Number.isInteger(value)) {
    return String(Math.abs(value) >= 1 ? Number(value.toFixed(3)) : Number(value.toPrecision(4)));
  }
  return JSON.stringify(value);
}

function humanLine(time: Date, level: Level, message: string, fields: Record<string, unknown>, color: boolean): string {
  const extras = Object.entries(fields)
    .map(([key, value]) => `${key}=${fieldText(value)}`)
    .join(" ");
  const tag = level.toUpperCase().padEnd(5);
  const clock = time.toTimeString().slice(0, 8);
  const head = color ? `\x1b[2m${clock}\x1b[0m ${COLORS[level]}${tag}\x1b[0m` : `${clock} ${tag}`;
  return `${head} ${message}${extras ? `  ${color ? "\x1b[2m" : ""}${extras}${color ? "\x1b[0m" : ""}` : ""}`;
}

/** A logger that drops everything, for one-shot commands and tests. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silentLogger };
