import { open, rm, stat } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { EdgetrainError, messageOf } from "../../errors.ts";
import { sha256OfFile } from "../../store/versions.ts";

export interface DownloadRequest {
  url: string;
  /** Where the bytes go; what a cut connection left there is resumed with a Range request. */
  file: string;
  size: number;
  sha256: string;
  signal: AbortSignal;
  headers?: Record<string, string>;
  /**
   * How long tries go on with no byte received, for a failure that may pass (connection refused or cut, a
   * stall, a 5xx answer); default 1 hour. Each try resumes where the last stopped; 0 tries once.
   */
  retryForMs?: number;
  /** The wait before the first try again, doubled after each try that brought nothing; default 5 s. */
  firstDelayMs?: number;
  /** The longest wait between tries; default 5 minutes. */
  maxDelayMs?: number;
  /** A try is given up when no byte has come for this long; default 60 s. */
  stallMs?: number;
  /** Told of each failure that will be tried again, and when. */
  onRetry?: (error: unknown, delayMs: number) => void;
}

/**
 * Downloads a model file and checks its size and sha256. A transfer cut short is resumed from the bytes
 * already on disk (in this call or after a restart); a file that does not match is deleted, so the next
 * try starts afresh. Returns how many bytes came from an earlier transfer.
 *
 * Only an `EdgetrainError` is final (a refusal such as 401 or 404, a file larger than announced, a wrong
 * hash); anything else is a network failure, tried again with backoff until `retryForMs` passes without
 * progress, or until the signal aborts the wait.
 */
export async function downloadModel(request: DownloadRequest): Promise<{ resumedFrom: number }> {
  const retryForMs = request.retryForMs ?? 3_600_000;
  const firstDelayMs = request.firstDelayMs ?? 5000;
  let resumedFrom = -1;
  let delayMs = firstDelayMs;
  let progressAt = Date.now();
  let before = -1;
  for (;;) {
    const have = await sizeOf(request.file);
    if (resumedFrom < 0) resumedFrom = have;
    // Bytes came since the last try: the hub is there, so the clock and the backoff start again.
    if (before >= 0 && have > before) {
      progressAt = Date.now();
      delayMs = firstDelayMs;
    }
    before = have;
    try {
      if (have < request.size) await fetchFrom(request, have);
      break;
    } catch (error) {
      if (request.signal.aborted || error instanceof EdgetrainError) throw error;
      if (Date.now() + delayMs - progressAt > retryForMs) throw error;
      request.onRetry?.(error, delayMs);
      // Rejects at once when the daemon stops.
      await sleep(delayMs, undefined, { signal: request.signal });
      delayMs = Math.min(delayMs * 2, request.maxDelayMs ?? 300_000);
    }
  }
  const size = await sizeOf(request.file);
  const actual = size === request.size ? await sha256OfFile(request.file) : undefined;
  if (actual !== request.sha256) {
    await rm(request.file, { force: true });
    const why =
      actual === undefined
        ? `${size} bytes instead of the ${request.size} announced`
        : `sha256 ${actual} instead of the ${request.sha256} announced`;
    throw new EdgetrainError("bad_input", `the model file downloaded from the hub has ${why}; deleted`, {
      details: { size, sha256: actual },
    });
  }
  return { resumedFrom };
}

/** Answers that may change by asking again later (the hub restarting behind a proxy, or too busy): 408, 429, 5xx. */
const passing = (status: number) => status === 408 || status === 429 || status >= 500;

async function fetchFrom(request: DownloadRequest, offset: number): Promise<void> {
  const headers: Record<string, string> = { ...request.headers };
  if (offset > 0) headers.Range = `bytes=${offset}-`;
  // A hub gone behind a forwarder that keeps the connection open sends nothing, and says nothing either.
  const stallMs = request.stallMs ?? 60_000;
  const stall = new AbortController();
  let timer = setTimeout(() => stall.abort(), stallMs);
  const progressed = () => {
    clearTimeout(timer);
    timer = setTimeout(() => stall.abort(), stallMs);
  };
  const signal = AbortSignal.any([request.signal, stall.signal]);
  const broke = (error: unknown) =>
    stall.signal.aborted
      ? new Error(`the model download stalled: no byte in ${stallMs / 1000} s`)
      : new Error(`the model download broke off: ${messageOf(error)}`);
  let response: Response;
  try {
    response = await fetch(request.url, { headers, signal });
  } catch (error) {
    clearTimeout(timer);
    throw broke(error);
  }
  try {
    if (response.status === 416) return;
    if (!response.ok) {
      const message = `the hub answered ${response.status} to the model download`;
      // A refusal (wrong token, gone) will not change by asking again; a server error may.
      throw passing(response.status)
        ? new Error(message)
        : new EdgetrainError("bad_input", message, { details: { status: response.status } });
    }
    // A server that ignores Range sends the whole file again: start over rather than append it.
    const append = offset > 0 && response.status === 206;
    const handle = await open(request.file, append ? "a" : "w").catch((error: unknown) => {
      throw cannotWrite(request.file, error);
    });
    let written = append ? offset : 0;
    try {
      for await (const chunk of response.body ?? []) {
        progressed();
        written += chunk.byteLength;
        if (written > request.size)
          throw new EdgetrainError("bad_input", `the model file is larger than the ${request.size} bytes announced`);
        await handle.write(chunk).catch((error: unknown) => {
          throw cannotWrite(request.file, error);
        });
      }
    } catch (error) {
      if (error instanceof EdgetrainError) await rm(request.file, { force: true });
      throw error instanceof EdgetrainError ? error : broke(error);
    } finally {
      await handle.close();
    }
    if (written < request.size) throw new Error(`the model download ended after ${written} of ${request.size} bytes`);
  } finally {
    clearTimeout(timer);
  }
}

/** The device's own disk refusing the file (EACCES, ENOSPC): asking the hub again would not help. */
function cannotWrite(file: string, error: unknown): EdgetrainError {
  return new EdgetrainError("bad_input", `the model file ${file} cannot be written here: ${messageOf(error)}`, {
    details: { file },
  });
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}
