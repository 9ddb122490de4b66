import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { type Environment, readEnvironment } from "../runtime/environment.ts";
import { EdgetrainError } from "../runtime/errors.ts";
import type { Logger, ResolvedPaths } from "../runtime/plugin-api.ts";

export const repoRoot = resolve(import.meta.dir, "..");
export const bun = process.execPath;
export const cli = join(repoRoot, "runtime/cli/main.ts");

export interface TempDir extends AsyncDisposable {
  path: string;
  write(relative: string, text: string): string;
}

/** A temporary folder removed at the end of the `await using` scope. */
export function tempDir(prefix = "edgetrain-test-"): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    write(relative, text) {
      const file = join(path, relative);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text);
      return file;
    },
    async [Symbol.asyncDispose]() {
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/** Every path of a plugin context in one folder, for plugins tested outside a daemon. */
export function pathsIn(dir: string): ResolvedPaths {
  return { home: dir, data: dir, models: dir, cache: dir, logs: dir, state: dir, plugins: dir };
}

export function testEnvironment(home: string, variables: Record<string, string> = {}): Environment {
  return readEnvironment({ HOME: home, PATH: process.env.PATH, ...variables });
}

/** Runs the CLI from source as a real child process. */
export async function runCli(args: string[], options: { home: string; env?: Record<string, string>; cwd?: string }) {
  const proc = Bun.spawn([bun, cli, ...args], {
    cwd: options.cwd ?? options.home,
    env: { PATH: process.env.PATH, HOME: options.home, NO_COLOR: "1", ...options.env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { stdout, stderr, code };
}

/** Starts `edgetrain run` as a real process on a free port and waits for its listening line. */
export async function startDaemonProcess(home: string, args: string[] = [], env: Record<string, string> = {}) {
  const proc = Bun.spawn([bun, cli, "run", "--port", "0", ...args], {
    env: { PATH: process.env.PATH, HOME: home, NO_COLOR: "1", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const reader = proc.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`daemon exited: ${await new Response(proc.stderr).text()}`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const listening = JSON.parse(text.split("\n")[0]!) as { url: string; port: number; pid: number };
  return { proc, url: `http://127.0.0.1:${listening.port}`, listening };
}

/** Polls until `predicate` holds, or fails after `ms`. */
export async function waitUntil(predicate: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await Bun.sleep(25);
  }
}

/**
 * Stopped (state T), or with a SIGSTOP still pending: a child stopped the moment it is spawned can sit in
 * exec (state D) for hundreds of milliseconds on a loaded machine before the stop takes hold.
 */
export function stoppedOrStopping(pid: number): boolean {
  if (processState(pid) === "T") return true;
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const SIGSTOP_BIT = 1n << 18n;
    return [...status.matchAll(/^(?:SigPnd|ShdPnd):\s+([0-9a-f]+)$/gm)].some(
      (match) => (BigInt(`0x${match[1]}`) & SIGSTOP_BIT) !== 0n,
    );
  } catch {
    return false;
  }
}

/** A process's state letter from /proc (R, S, T stopped, Z zombie…), or "gone". */
export function processState(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0] ?? "gone";
  } catch {
    return "gone";
  }
}

/** A session CSV of `rows` rows where hr (shifted by `shift`) tells walk from run, for jobs that train in a moment. */
export function walkRunSession(rows: number, shift: number): string {
  return (
    "timestamp,hr,speed,label\n" +
    Array.from(
      { length: rows },
      (_, i) => `t${i},${(i % 10) * 10 + shift},${(i % 5) + shift / 10},${i % 10 < 5 ? "walk" : "run"}`,
    ).join("\n") +
    "\n"
  );
}

/** The EdgetrainError the promise rejects with; fails the test if it resolves or rejects with anything else. */
export async function edgetrainErrorOf(promise: Promise<unknown>): Promise<EdgetrainError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof EdgetrainError) return error;
    throw error;
  }
  throw new Error("expected it to fail");
}

/** A line a recording logger kept: its level, its words and its fields as given. */
export interface LoggedLine {
  level: string;
  message: string;
  fields?: Record<string, unknown>;
}

/** A logger that keeps each line in `lines`, its children included, for a test to read. */
export function recordingLogger(lines: LoggedLine[]): Logger {
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    void lines.push(fields === undefined ? { level, message } : { level, message, fields });
  const logger: Logger = {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: () => logger,
  };
  return logger;
}
