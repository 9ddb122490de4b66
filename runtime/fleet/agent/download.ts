import { open, rm, stat } from "node:fs/promises";
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
  /** Tries before giving up on a connection that keeps breaking; each resumes where the last stopped. */
  attempts?: number;
  retryDelayMs?: number;
}

/**
 * Downloads a model file and checks its size and sha256. A transfer cut short is resumed from the bytes
 * already on disk (in this call or after a restart); a file that does not match is deleted, so the next
 * try starts afresh. Returns how many bytes came from an earlier transfer.
 */
export async function downloadModel(request: DownloadRequest): Promise<{ resumedFrom: number }> {
  const attempts = request.attempts ?? 5;
  let resumedFrom = -1;
  for (let attempt = 1; ; attempt++) {
    const have = await sizeOf(request.file);
    if (resumedFrom < 0) resumedFrom = have;
    try {
      if (have < request.size) await fetchFrom(request, have);
      break;
    } catch (error) {
      if (request.signal.aborted || error instanceof EdgetrainError || attempt >= attempts) throw error;
      await Bun.sleep((request.retryDelayMs ?? 500) * attempt);
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

async function fetchFrom(request: DownloadRequest, offset: number): Promise<void> {
  const headers: Record<string, string> = { ...request.headers };
  if (offset > 0) headers.Range = `bytes=${offset}-`;
  const response = await fetch(request.url, { headers, signal: request.signal });
  if (response.status === 416) return;
  if (!response.ok) {
    const error = new Error(`the hub answered ${response.status} to the model download`);
    // A refusal (wrong token, gone) will not change by asking again; a server error may.
    throw response.status >= 500
      ? error
      : new EdgetrainError("bad_input", error.message, { details: { status: response.status } });
  }
  // A server that ignores Range sends the whole file again: start over rather than append it.
  const append = offset > 0 && response.status === 206;
  const handle = await open(request.file, append ? "a" : "w");
  let written = append ? offset : 0;
  try {
    for await (const chunk of response.body ?? []) {
      written += chunk.byteLength;
      if (written > request.size)
        throw new EdgetrainError("bad_input", `the model file is larger than the ${request.size} bytes announced`);
      await handle.write(chunk);
    }
  } catch (error) {
    if (error instanceof EdgetrainError) await rm(request.file, { force: true });
    throw error instanceof EdgetrainError ? error : new Error(`the model download broke off: ${messageOf(error)}`);
  } finally {
    await handle.close();
  }
  if (written < request.size) throw new Error(`the model download ended after ${written} of ${request.size} bytes`);
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}
