import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { HubAddress } from "../api/fleet-contract.ts";
import { expandHome } from "../config/paths.ts";
import { defaultHome } from "../environment.ts";
import { EdgetrainError, messageOf } from "../errors.ts";
import { type CommandIo, type OptionSpec, type ParsedArgs, stringFlag } from "./command.ts";
import { daemonError } from "./daemon-client.ts";
import { checkHomeFolder, homeFlag } from "./home-folder.ts";

export const hubHomeOption = {
  home: {
    type: "string",
    value: "DIR",
    description: "the hub's home (default ~/.edgetrain/hub, or $EDGETRAIN_HOME/hub)",
  },
} as const satisfies Record<string, OptionSpec>;

export const hubClientOptions = {
  url: { type: "string", value: "URL", description: "the hub's address (default: the hub.json of its home)" },
  token: {
    type: "string",
    value: "TOKEN",
    description: "its API token (default EDGETRAIN_HUB_TOKEN, or the hub.token of its home)",
  },
  ...hubHomeOption,
} as const satisfies Record<string, OptionSpec>;

/** The hub's home: --home, else `hub` inside the edgetrain home, so that it never mixes with a daemon's files. */
export function hubHome(args: ParsedArgs, io: CommandIo): string {
  const flag = homeFlag(args);
  const home = resolve(expandHome(flag ?? join(defaultHome(io.environment), "hub"), io.environment.userHome));
  checkHomeFolder(home, flag !== undefined ? "--home" : "the default");
  return home;
}

export interface HubClient {
  url: string;
  /** One call; an error answer is thrown as an EdgetrainError with the hub's own code. */
  call<T>(method: string, path: string, body?: unknown): Promise<T>;
}

/** Where the hub is and its token: --url with --token, else the hub running on the home (hub.json, hub.token). */
export function hubConnection(args: ParsedArgs, io: CommandIo): { url: string; token?: string } {
  const urlFlag = stringFlag(args, "url");
  const token = stringFlag(args, "token") ?? io.environment.variables.EDGETRAIN_HUB_TOKEN;
  if (urlFlag) return { url: urlFlag.replace(/\/+$/, ""), token };
  const home = hubHome(args, io);
  return { url: readAddress(home).url, token: token ?? readToken(home) };
}

/** A client of the hub of `hubConnection`. */
export function hubClient(args: ParsedArgs, io: CommandIo): HubClient {
  const { url, token } = hubConnection(args, io);
  return {
    url,
    async call<T>(method: string, path: string, body?: unknown): Promise<T> {
      const binary = body instanceof Uint8Array;
      const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
      if (body !== undefined) headers["content-type"] = binary ? "application/octet-stream" : "application/json";
      let response: Response;
      try {
        response = await fetch(url + path, {
          method,
          headers,
          body: body === undefined ? undefined : binary ? body : JSON.stringify(body),
          signal: AbortSignal.timeout(binary ? 300_000 : 10_000),
        });
      } catch (error) {
        throw new EdgetrainError("not_found", `the hub at ${url} does not answer: ${messageOf(error)}`, {
          hint: "is it running? (edgetrain hub)",
        });
      }
      const text = await response.text();
      let answer: unknown = text;
      try {
        answer = text ? JSON.parse(text) : null;
      } catch {
        // Not JSON: kept as text for the error below.
      }
      if (!response.ok) throw daemonError(response.status, answer);
      return answer as T;
    },
  };
}

function readAddress(home: string): HubAddress {
  try {
    return JSON.parse(readFileSync(join(home, "hub.json"), "utf8")) as HubAddress;
  } catch {
    throw new EdgetrainError("not_found", `no hub runs on ${home}`, {
      hint: `start it with: edgetrain hub --home ${home}, or give --url`,
    });
  }
}

function readToken(home: string): string | undefined {
  try {
    return readFileSync(join(home, "hub.token"), "utf8").trim();
  } catch {
    return undefined;
  }
}
