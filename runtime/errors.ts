/**
 * Every error a user can meet is declared here once, with a stable code and the data that explains it.
 * Text for people is produced only at the edges (CLI printer, HTTP error handler).
 */
import { didYouMean } from "./config/did-you-mean.ts";

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
  /**
   * Refused on purpose: home locked, unsafe bind, a run deferred or paused too long by the governor, a run already
   * in progress, the disk of the home full.
   */
  refused: 5,
  /** The home went away under the running daemon (sysexits' EX_IOERR): restart it on a fresh one. */
  homeLost: 74,
  /** A bug or an unexpected failure of the environment. */
  internal: 70,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

interface CodeSpec {
  exit: ExitCode;
  /** The HTTP status of the API's answer; 500 when absent (a failure of the daemon, not of the request). */
  status?: number;
  /** What the code means, one line: the template the factories below fill in. */
  means: string;
}

/** Each code with its exit code, HTTP status and meaning: the one table both edges read. */
const codes = {
  usage: { exit: ExitCode.usage, status: 400, means: "the command line is wrong" },
  profile_not_found: { exit: ExitCode.config, means: "no profile by that name or path" },
  profile_invalid: { exit: ExitCode.config, status: 400, means: "the profile does not validate" },
  plugin_load_failed: { exit: ExitCode.plugin, means: "a plugin failed to load" },
  plugin_invalid: { exit: ExitCode.plugin, status: 400, means: "an unknown plugin, or options its schema refuses" },
  home_locked: { exit: ExitCode.refused, status: 409, means: "another daemon holds the home" },
  unsafe_bind: { exit: ExitCode.refused, means: "the API would listen beyond loopback without a token" },
  state_failed: { exit: ExitCode.internal, means: "the state database failed" },
  runtime_unavailable: { exit: ExitCode.problems, means: "ONNX Runtime does not load on this machine" },
  not_found: { exit: ExitCode.problems, status: 404, means: "no job, key, model or version by that name" },
  // The request was fine; the active version's file on this machine is not.
  model_unavailable: { exit: ExitCode.problems, status: 503, means: "the model has no version that serves" },
  // The version exists but its ONNX file will not load or answers its health check wrongly: the request names a bad
  // version.
  model_not_loadable: {
    exit: ExitCode.problems,
    status: 422,
    means: "the model version's ONNX file does not load or fails its health check",
  },
  // A file of another framework (.pkl, .pt) that its converter could not turn into ONNX: nothing was stored.
  model_not_convertible: {
    exit: ExitCode.problems,
    status: 422,
    means: "a converter could not turn the model file into ONNX",
  },
  data_invalid: { exit: ExitCode.problems, status: 400, means: "the data is missing or malformed" },
  bad_input: { exit: ExitCode.problems, status: 400, means: "the input is malformed" },
  run_failed: { exit: ExitCode.problems, means: "the run failed" },
  cancelled: {
    exit: ExitCode.problems,
    status: 409,
    means: "the run was cancelled: by a person, or because edgetrain stopped",
  },
  paused_too_long: {
    exit: ExitCode.refused,
    status: 503,
    means: "the governor paused the run longer than governor.max_pause; it runs again later",
  },
  deferred: { exit: ExitCode.refused, status: 503, means: "the governor deferred the run" },
  // Runs of a job and key never overlap: a request only for runs in progress queues nothing.
  already_running: { exit: ExitCode.refused, status: 409, means: "a run of the job and key is already in progress" },
  conflict: { exit: ExitCode.problems, status: 409, means: "it conflicts with the current state" },
  refused: { exit: ExitCode.refused, means: "refused on purpose" },
  disk_full: { exit: ExitCode.refused, status: 507, means: "the disk of the home is full" },
  // A failure of the environment: the daemon stops so that systemd starts it again on a clean home.
  home_lost: { exit: ExitCode.homeLost, means: "the home was deleted or made unwritable under the running daemon" },
  // Refusals of the API's request rules, before any route runs.
  bad_request: { exit: ExitCode.problems, status: 400, means: "the request is malformed" },
  unauthorized: { exit: ExitCode.refused, status: 401, means: "no valid token" },
  forbidden_host: { exit: ExitCode.refused, status: 403, means: "the Host header is not allowed" },
  forbidden_origin: { exit: ExitCode.refused, status: 403, means: "the Origin is not in api.cors_origins" },
  length_required: { exit: ExitCode.problems, status: 411, means: "the request has no length" },
  too_large: { exit: ExitCode.problems, status: 413, means: "the request is too large" },
  unsupported_media_type: {
    exit: ExitCode.problems,
    status: 415,
    means: "the body is not of the type the route reads",
  },
  internal: { exit: ExitCode.internal, means: "a bug or an unexpected failure" },
} as const satisfies Record<string, CodeSpec>;

export type ErrorCode = keyof typeof codes;

/** The declared codes with their exit code, HTTP status and meaning, for docs and tests. */
export const ERROR_CODES: Readonly<Record<ErrorCode, CodeSpec>> = codes;

/** Whether `value` is a code declared here: a client rethrows a daemon's code only when it knows it. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(codes, value);
}

export class EdgetrainError extends Error {
  readonly code: ErrorCode;
  /** Facts for machines: file, line, field path, pid… Serialised as-is by the API. */
  readonly details: Record<string, unknown>;
  /** What the user can do about it, one line. */
  readonly hint?: string;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: Record<string, unknown>; hint?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "EdgetrainError";
    this.code = code;
    this.details = options.details ?? {};
    this.hint = options.hint;
  }

  get exitCode(): ExitCode {
    return codes[this.code].exit;
  }

  get httpStatus(): number {
    const spec: CodeSpec = codes[this.code];
    return spec.status ?? 500;
  }

  toJSON() {
    return { code: this.code, message: this.message, hint: this.hint, ...this.details };
  }
}

/** The error, then what it wraps (`cause`), and so on, at most five deep: a wrapper may hide the real fault. */
export function* causeChain(error: unknown): Generator<unknown> {
  let current = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    yield current;
    current = typeof current === "object" ? (current as { cause?: unknown }).cause : undefined;
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * ` (did you mean "x"?)` to follow a name nobody knows, or "" when no known name is close; `shown` words the suggestion
 * (`--x`).
 */
export function suggestion(name: string, known: Iterable<string>, shown: (name: string) => string = (n) => n): string {
  const close = didYouMean(name, known);
  return close === undefined ? "" : ` (did you mean "${shown(close)}"?)`;
}

/** A problem's hint: `did you mean "x"?` when a known name is close, then `rest`; "" when both are empty. */
export function suggestionHint(name: string, known: Iterable<string>, rest = ""): string {
  const close = didYouMean(name, known);
  return [close === undefined ? "" : `did you mean "${close}"?`, rest].filter(Boolean).join(" ");
}

interface NotFoundOptions {
  /** not_found unless told: an unknown command is `usage`, an unknown plugin `plugin_invalid`. */
  code?: ErrorCode;
  /** The words before the suggestion; `no KIND "NAME"` unless told. */
  message?: string;
  /** Words after the suggestion (`; expected a or b`). */
  after?: string;
  hint?: string;
  details?: Record<string, unknown>;
  shown?: (name: string) => string;
}

/** An unknown name, with the closest known one: the one place "did you mean" is put into an error. */
export function notFound(
  kind: string,
  name: string,
  known: Iterable<string>,
  options: NotFoundOptions = {},
): EdgetrainError {
  const said = options.message ?? `no ${kind} "${name}"`;
  const message = `${said}${suggestion(name, known, options.shown)}${options.after ?? ""}`;
  return new EdgetrainError(options.code ?? "not_found", message, {
    hint: options.hint,
    details: options.details ?? { [kind]: name },
  });
}

/** Why a run was cancelled. Carried as the abort's reason (AbortSignal.reason), so nothing reads it back from text. */
export type CancelReason = "person" | "shutdown" | "max_pause" | "max_runtime";

/**
 * The reason to abort a run with: `paused_too_long` for max_pause (the run goes back in the queue), else `cancelled`.
 */
export function cancellation(reason: CancelReason, message: string): EdgetrainError {
  return new EdgetrainError(reason === "max_pause" ? "paused_too_long" : "cancelled", message, { details: { reason } });
}

/**
 * The typed cancellation an aborted signal carries; a plain reason (a string from a plugin or a script) counts as a
 * person's.
 */
export function cancellationOf(signal: AbortSignal): EdgetrainError & { details: { reason: CancelReason } } {
  const reason = signal.reason as unknown;
  const typed =
    reason instanceof EdgetrainError && (reason.code === "cancelled" || reason.code === "paused_too_long")
      ? reason
      : cancellation("person", reason === undefined ? "cancelled" : messageOf(reason));
  return typed as EdgetrainError & { details: { reason: CancelReason } };
}
