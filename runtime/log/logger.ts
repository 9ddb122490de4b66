import { closeSync, fstatSync, mkdirSync, openSync, renameSync, statSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Logger } from "../plugin-api.ts";
import { withPriority } from "./journal-stream.ts";

export type Level = "debug" | "info" | "warn" | "error";
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** True when `level` is `minimum` or more severe. */
export function levelAtLeast(level: Level, minimum: Level): boolean {
  return RANK[level] >= RANK[minimum];
}

const SECRET_FIELD = /token|password|secret|authorization/i;

/** Stderr as the log sink writes to it. */
export interface LogConsole {
  write(text: string): void;
  isTTY: boolean;
  color: boolean;
  /** journald's stream (JOURNAL_STREAM): each line starts with its syslog priority, `<3>` for an error. */
  journal?: boolean;
}

export interface LogSinkOptions {
  level: Level;
  /** JSON-lines file; omitted by one-shot commands that keep no log. */
  file?: string;
  /** Past this size the file becomes `<file>.1` (the older ones `.2` … `.keep`, the oldest dropped). */
  rotate?: { maxBytes: number; keep: number };
  /** Where people read: stderr. */
  console?: LogConsole;
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
  /** Lines the file refused (a full disk) since the last one it took, and why. */
  private missing = 0;
  private missingWhy = "";
  /** The last write stopped partway through its line. */
  private cut = false;

  constructor(private readonly options: LogSinkOptions) {
    this.level = options.level;
    if (options.file) {
      mkdirSync(dirname(options.file), { recursive: true });
      this.open(options.file);
    }
  }

  setLevel(level: Level) {
    this.level = level;
  }

  logger(fields: Record<string, unknown> = {}): Logger {
    const write = (level: Level) => (message: string, extra?: Record<string, unknown>) =>
      this.write(level, message, { ...fields, ...extra });
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
    if (this.fd !== undefined) this.toFile(line);
    this.options.onLine?.(line);
    const console = this.options.console;
    if (console && levelAtLeast(level, this.options.consoleLevel ?? this.level)) {
      const text = humanLine(time, level, message, safe, console.isTTY && console.color);
      console.write(console.journal ? withPriority(text, level) : `${text}\n`);
    }
  }

  /**
   * A file that cannot be written (a full disk) must not turn every log call into an error: the console and the TUI
   * still get the line.
   */
  private toFile(line: LogLine) {
    try {
      if (this.missing > 0) {
        // A line the full disk cut short is ended first, so that the lines after it stay whole.
        const msg = `${this.missing} log line(s) are missing here: the file could not be written (${this.missingWhy})`;
        this.writeWhole(`${this.cut ? "\n" : ""}${JSON.stringify({ time: line.time, level: "warn", msg })}\n`);
        this.missing = 0;
      }
      this.writeWhole(`${JSON.stringify(line)}\n`);
      // The file's own size, not a count of our writes: other processes append to it too.
      if (this.options.rotate && fstatSync(this.fd!).size >= this.options.rotate.maxBytes)
        this.rotate(this.options.file!, this.options.rotate.keep);
    } catch (error) {
      this.missing++;
      this.missingWhy = error instanceof Error ? error.message : String(error);
    }
  }

  private writeWhole(text: string) {
    const bytes = Buffer.from(text);
    const written = writeSync(this.fd!, bytes);
    this.cut = written < bytes.length;
    if (this.cut) throw new Error(`only ${written} of ${bytes.length} bytes written`);
  }

  private open(file: string) {
    this.fd = openSync(file, "a");
  }

  /**
   * Written here rather than with a rotating stream so that each line stays a synchronous write, on disk
   * before a crash that may follow it. Several processes append to one log (the daemon, `edgetrain train`):
   * one that finds the file already rotated by another only reopens it.
   */
  private rotate(file: string, keep: number) {
    try {
      if (statSync(file).ino === fstatSync(this.fd!).ino) {
        for (let n = keep - 1; n >= 1; n--) renameQuietly(`${file}.${n}`, `${file}.${n + 1}`);
        renameSync(file, `${file}.1`);
      }
    } catch {
      // Gone or renamed under us: the reopen below starts a new file either way.
    }
    closeSync(this.fd!);
    this.open(file);
  }
}

function renameQuietly(from: string, to: string) {
  try {
    renameSync(from, to);
  } catch {
    // Not there yet: fewer rotated files than `keep`.
  }
}

/** The LogSink options for a profile's `logging` section: the file under the logs folder, and its rotation. */
export function logFileOptions(
  logging: { file: string; max_size_mb: number; keep_files: number },
  logsDir: string,
): { file: string; rotate: NonNullable<LogSinkOptions["rotate"]> } {
  return {
    file: join(logsDir, logging.file),
    rotate: { maxBytes: logging.max_size_mb * 1024 * 1024, keep: logging.keep_files },
  };
}

function redact(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(fields).map(([key, value]) => [key, SECRET_FIELD.test(key) ? "[redacted]" : value]),
  );
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
  // A field left undefined (the key of a job without keys) is absent, as in the JSON-lines file.
  const extras = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${fieldText(value)}`)
    .join(" ");
  const tag = level.toUpperCase().padEnd(5);
  const clock = time.toTimeString().slice(0, 8);
  const head = color ? `\x1b[2m${clock}\x1b[0m ${COLORS[level]}${tag}\x1b[0m` : `${clock} ${tag}`;
  return `${head} ${message}${extras ? `  ${color ? "\x1b[2m" : ""}${extras}${color ? "\x1b[0m" : ""}` : ""}`;
}

/** A logger that drops everything, for one-shot commands and tests. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silentLogger };
