/**
 * Every error a user can meet is declared here once, with a stable code and the data that explains it.
 * Text for people is produced only at the edges (CLI printer, HTTP error handler).
 */

/** Exit codes of the `edgetrain` command; documented in the README. */
export const ExitCode = {
  ok: 0,
  /** The command ran and found problems: invalid profile, a failed check, bad input. */
  problems: 1,
  /** The command line itself was wrong. */
  usage: 2,
  /** The profile could not be loaded or did not validate, so nothing was started. */
  config: 3,
  /** A plugin failed to load or its options are wrong. */
  plugin: 4,
  /** Refused on purpose: home locked by another daemon, unsafe bind, a run deferred by the governor, the disk of the home full. */
  refused: 5,
  /** A bug or an unexpected failure of the environment. */
  internal: 70,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export type ErrorCode =
  | "usage"
  | "profile_not_found"
  | "profile_invalid"
  | "plugin_load_failed"
  | "plugin_invalid"
  | "home_locked"
  | "unsafe_bind"
  | "state_failed"
  | "runtime_unavailable"
  | "not_found"
  | "model_unavailable"
  | "data_invalid"
  | "bad_input"
  | "run_failed"
  | "deferred"
  | "conflict"
  | "refused"
  | "disk_full"
  // Refusals of the API's request rules, before any route runs.
  | "bad_request"
  | "unauthorized"
  | "forbidden_host"
  | "length_required"
  | "too_large"
  | "internal";

const exitCodeOf: Record<ErrorCode, ExitCode> = {
  usage: ExitCode.usage,
  profile_not_found: ExitCode.config,
  profile_invalid: ExitCode.config,
  plugin_load_failed: ExitCode.plugin,
  plugin_invalid: ExitCode.plugin,
  home_locked: ExitCode.refused,
  unsafe_bind: ExitCode.refused,
  state_failed: ExitCode.internal,
  runtime_unavailable: ExitCode.problems,
  not_found: ExitCode.problems,
  model_unavailable: ExitCode.problems,
  data_invalid: ExitCode.problems,
  bad_input: ExitCode.problems,
  run_failed: ExitCode.problems,
  deferred: ExitCode.refused,
  conflict: ExitCode.problems,
  refused: ExitCode.refused,
  disk_full: ExitCode.refused,
  bad_request: ExitCode.problems,
  unauthorized: ExitCode.refused,
  forbidden_host: ExitCode.refused,
  length_required: ExitCode.problems,
  too_large: ExitCode.problems,
  internal: ExitCode.internal,
};

const httpStatusOf: Partial<Record<ErrorCode, number>> = {
  usage: 400,
  profile_invalid: 400,
  plugin_invalid: 400,
  not_found: 404,
  // The request was fine; the active version's file on this machine is not.
  model_unavailable: 503,
  data_invalid: 400,
  bad_input: 400,
  home_locked: 409,
  deferred: 503,
  conflict: 409,
  disk_full: 507,
  bad_request: 400,
  unauthorized: 401,
  forbidden_host: 403,
  length_required: 411,
  too_large: 413,
};

/** Whether `value` is a code declared here: a client rethrows a daemon's code only when it knows it. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(exitCodeOf, value);
}

export class EdgetrainError extends Error {
  readonly code: ErrorCode;
  /** Facts for machines: file, line, field path, pid… Serialised as-is by the API. */
  readonly details: Record<string, unknown>;
  /** What the user can do about it, one line. */
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, options: { details?: Record<string, unknown>; hint?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "EdgetrainError";
    this.code = code;
    this.details = options.details ?? {};
    this.hint = options.hint;
  }

  get exitCode(): ExitCode {
    return exitCodeOf[this.code];
  }

  get httpStatus(): number {
    return httpStatusOf[this.code] ?? 500;
  }

  toJSON() {
    return { code: this.code, message: this.message, hint: this.hint, ...this.details };
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
