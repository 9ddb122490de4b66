import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Treaty, treaty } from "@elysiajs/eden";
import type { App, ErrorBody } from "../api/contract.ts";
import { EdgetrainError, isErrorCode, messageOf } from "../errors.ts";
import { isOwnerAlive, readLockOwner } from "../locks/lockfile.ts";
import type { CommandIo, ParsedArgs } from "./command.ts";
import { loadHomeProfile } from "./home.ts";

/** The daemon's routes as typed calls, from the app's own type: `api.v1.models({ name }).get()`. */
export type DaemonApi = Treaty.Create<App>;

/** What Eden gives back for any call: the data, or the error with its status and body. */
interface EdenAnswer {
  data: unknown;
  error: { status: unknown; value: unknown } | null;
  response?: Response;
}

export interface DaemonClient {
  url: string;
  api: DaemonApi;
  /** The home and the pid its daemon.json names, for a client of a home's daemon (not one given by URL). */
  home?: { path: string; pid: number };
  /** The data of an answer; an error answer is thrown as an EdgetrainError with the daemon's own code. */
  answer<R extends EdenAnswer>(pending: Promise<R>): Promise<NonNullable<R["data"]>>;
}

/**
 * Talks to the daemon that runs on the home: its address from `daemon.json`, its token from the profile's
 * api.token or the home's `api.token` file. Errors come back in words, never as a stack trace.
 */
export function daemonClient(args: ParsedArgs, io: CommandIo): DaemonClient {
  const { loaded, paths } = loadHomeProfile(args, io);
  const address = daemonAddress(paths.home);
  const client = connectDaemon(address.url, loaded.profile?.api.token ?? homeToken(paths.home));
  return { ...client, home: { path: paths.home, pid: address.pid } };
}

/**
 * Throws not_found when the daemon that answered is not the home's: daemon.json names its pid, and a
 * status answer carries the pid and home of the daemon that gave it.
 */
export function requireHomeDaemon(client: DaemonClient, answered: { pid: number; home: string }): void {
  const { home } = client;
  if (!home || answered.pid === home.pid) return;
  throw new EdgetrainError(
    "not_found",
    `no daemon runs on ${home.path}: its daemon.json names pid ${home.pid}, but ${client.url} is answered by ` +
      `pid ${answered.pid}, the daemon of ${answered.home}`,
    { hint: `start it with: edgetrain run --home ${home.path}` },
  );
}

/**
 * One call to the home's daemon, for commands that ask one thing: `askDaemon(args, io, (api) => api.v1.models.get())`.
 */
export function askDaemon<R extends EdenAnswer>(
  args: ParsedArgs,
  io: CommandIo,
  call: (api: DaemonApi) => Promise<R>,
): Promise<NonNullable<R["data"]>> {
  const client = daemonClient(args, io);
  return client.answer(call(client.api));
}

/** A client of the daemon at `url`, with the token every change needs (and every request, beyond loopback). */
export function connectDaemon(url: string, token: string | undefined): DaemonClient {
  const api = treaty<App>(url, {
    // Times stay the ISO strings the contract says they are; by default Eden turns them into Dates.
    parseDate: false,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    onRequest: () => ({ signal: AbortSignal.timeout(10_000) }),
  });
  return {
    url,
    api,
    async answer(pending) {
      const answer = await pending;
      if (!answer.error) return answer.data as NonNullable<Awaited<typeof pending>["data"]>;
      // A request that got no answer (refused, timed out) comes back without a response, its error as the value.
      if (!answer.response)
        throw new EdgetrainError(
          "not_found",
          `the daemon at ${url} does not answer: ${messageOf(answer.error.value)}`,
          { hint: "is it running? (edgetrain run)" },
        );
      throw daemonError(answer.response.status, answer.error.value);
    },
  };
}

/** The daemon's error body as an EdgetrainError with the daemon's code, hint and details. */
export function daemonError(status: number, body: unknown): EdgetrainError {
  const { code, message, hint, ...details } = (
    typeof body === "object" && body !== null ? body : {}
  ) as Partial<ErrorBody>;
  // A code this CLI does not know (a newer daemon's) keeps at least the kind of failure.
  const known = isErrorCode(code) ? code : status >= 500 ? "internal" : "bad_input";
  return new EdgetrainError(known, typeof message === "string" ? message : `the daemon answered HTTP ${status}`, {
    hint: typeof hint === "string" ? hint : undefined,
    details,
  });
}

/** True when a live daemon holds the home: model and cache commands then go through its API. */
export function daemonRuns(home: string): boolean {
  const owner = readLockOwner(join(home, "edgetrain.lock"));
  // The lock may be a daemon's or an `edgetrain train`'s; daemon.json names the daemon's pid.
  return owner !== undefined && isOwnerAlive(owner) && daemonPid(home) === owner.pid;
}

/** The pid in the home's daemon.json; undefined without one (or one left by a daemon that crashed unreadable). */
export function daemonPid(home: string): number | undefined {
  try {
    return (JSON.parse(readFileSync(join(home, "daemon.json"), "utf8")) as { pid?: number }).pid;
  } catch {
    return undefined;
  }
}

/**
 * Where the daemon on `home` listens, from its `daemon.json`; an error in words when none runs there. A
 * daemon killed outright leaves its daemon.json behind, and another home's daemon may take its port since:
 * the file counts only while the pid it names is alive and holds the home's lock.
 */
export function daemonAddress(
  home: string,
  hint = `start it with: edgetrain run --home ${home}`,
): { url: string; pid: number } {
  let address: { url: string; pid: number };
  try {
    address = JSON.parse(readFileSync(join(home, "daemon.json"), "utf8")) as { url: string; pid: number };
  } catch {
    throw new EdgetrainError("not_found", `no daemon runs on ${home}`, { hint });
  }
  if (!daemonRuns(home))
    throw new EdgetrainError(
      "not_found",
      `no daemon runs on ${home}: its daemon.json was left by pid ${address.pid}, which no longer runs there`,
      { hint },
    );
  return address;
}

/** The token a daemon made for its home (`api.token`, readable only by its owner), if there is one. */
export function homeToken(home: string): string | undefined {
  try {
    return readFileSync(join(home, "api.token"), "utf8").trim();
  } catch {
    return undefined;
  }
}
