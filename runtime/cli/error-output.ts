import { EdgetrainError, ExitCode, messageOf } from "../errors.ts";
import { isDiskFull } from "../files/disk-full.ts";
import { withPriority } from "../log/journal-stream.ts";
import type { CommandIo } from "./command.ts";

/** What a failed command says, on stderr: as text, or with --json as one object of this shape. */
export interface ErrorBody {
  code: string;
  message: string;
  hint: string | null;
  /** One line per problem (file:line:col  path  message), when there are several. */
  problems?: string[];
}

/** `--json` anywhere before `--`: asked for even when the command line fails to parse. */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  return (end === -1 ? argv : argv.slice(0, end)).includes("--json");
}

/** Prints the error the way the caller asked and returns the exit code from the one table in errors.ts. */
export function reportError(error: unknown, io: CommandIo, json: boolean): number {
  if (!(error instanceof EdgetrainError) && isDiskFull(error)) {
    // Not a bug, so no stack: a write somewhere found the disk full (the daemon names its home itself).
    return reportError(
      new EdgetrainError("disk_full", `the disk is full: ${messageOf(error)}`, {
        hint: "free space on it, or use another home with --home",
      }),
      io,
      json,
    );
  }
  const known = error instanceof EdgetrainError;
  const problems = known && Array.isArray(error.details.problems) ? error.details.problems.map(String) : undefined;
  const body: ErrorBody = {
    code: known ? error.code : "internal",
    message: known ? error.message : `internal error: ${messageOf(error)}`,
    hint: (known ? error.hint : undefined) ?? null,
    ...(problems ? { problems } : {}),
  };
  writeError(io, json, body, known || !(error instanceof Error) ? undefined : error.stack);
  return known ? error.exitCode : ExitCode.internal;
}

/** For a command that fails with its own exit code rather than by throwing. */
export function writeError(io: CommandIo, json: boolean, body: ErrorBody, stack?: string): void {
  if (json) {
    io.stderr.write(`${JSON.stringify(body)}\n`);
    return;
  }
  const lines = [
    `edgetrain: ${body.message}`,
    ...(body.problems?.slice(0, 20) ?? []).map((problem) => `  ${problem}`),
    ...(body.hint ? [`  hint: ${body.hint}`] : []),
    ...(stack ? [stack] : []),
  ].join("\n");
  // Under systemd a service that fails to start says why at error priority: `journalctl -p err` shows it.
  io.stderr.write(io.stderr.journal ? withPriority(lines, "error") : `${lines}\n`);
}
