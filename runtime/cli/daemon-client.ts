import { existsSync, readFileSync } from "node:fs";
import { isOwnerAlive, readLockOwner } from "../locks/lockfile.ts";
import { join } from "node:path";
import { EdgetrainError, messageOf } from "../errors.ts";
import type { CommandIo, ParsedArgs } from "./command.ts";
import { loadHomeProfile } from "./home.ts";

export interface DaemonClient {
  url: string;
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  delete<T>(path: string): Promise<T>;
}

/**
 * Talks to the daemon that runs on the home: its address from `daemon.json`, its token from the profile's
 * api.token or the home's `api.token` file. Errors come back in words, never as a stack trace.
 */
export function daemonClient(args: ParsedArgs, io: CommandIo): DaemonClient {
  const { loaded, paths } = loadHomeProfile(args, io);
  const address = daemonAddress(paths.home);
  const token = loaded.profile?.api.token ?? homeToken(paths.home);
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    let response: Response;
    try {
      response = await fetch(`${address.url}${path}`, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      throw new EdgetrainError("not_found", `the daemon at ${address.url} does not answer: ${messageOf(error)}`, { hint: "is it running? (edgetrain run)" });
    }
    const payload = (await response.json().catch(() => ({}))) as T & { message?: string; code?: string; hint?: string };
    if (!response.ok) {
      const code = response.status === 404 ? "not_found" : response.status === 409 ? "conflict" : "bad_input";
      throw new EdgetrainError(code, payload.message ?? `${method} ${path}: HTTP ${response.status}`, { hint: payload.hint });
    }
    return payload;
  };
  return { url: address.url, get: (path) => call("GET", path), post: (path, body) => call("POST", path, body), delete: (path) => call("DELETE", path) };
}

/** True when a live daemon holds the home: model and cache commands then go through its API. */
export function daemonRuns(home: string): boolean {
  const owner = readLockOwner(join(home, "edgetrain.lock"));
  return owner !== undefined && isOwnerAlive(owner) && existsSync(join(home, "daemon.json"));
}

/** Where the daemon on `home` listens, from its `daemon.json`; an error in words when none runs there. */
export function daemonAddress(home: string, hint = `start it with: edgetrain run --home ${home}`): { url: string } {
  try {
    return JSON.parse(readFileSync(join(home, "daemon.json"), "utf8")) as { url: string };
  } catch {
    throw new EdgetrainError("not_found", `no daemon runs on ${home}`, { hint });
  }
}

/** The token a daemon made for its home (`api.token`, readable only by its owner), if there is one. */
export function homeToken(home: string): string | undefined {
  try {
    return readFileSync(join(home, "api.token"), "utf8").trim();
  } catch {
    return undefined;
  }
}
