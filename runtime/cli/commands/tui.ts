import type { Connection } from "../../../tui/connection.ts";
import { EdgetrainError } from "../../errors.ts";
import type { ParsedArgs } from "../command.ts";
import { type Command, type CommandIo, interactiveTerminal, stringFlag } from "../command.ts";
import { daemonAddress, homeToken } from "../daemon-client.ts";
import { homeOptions, loadHomeProfile } from "../home.ts";
import { hubConnection } from "../hub-client.ts";

/** The daemon to attach to: --url/--token, else the home's daemon.json and its token. */
export function tuiConnection(args: ParsedArgs, io: CommandIo): Connection {
  const url = stringFlag(args, "url");
  const token = stringFlag(args, "token") ?? io.environment.variables.EDGETRAIN_TOKEN;
  if (url) return { url: url.replace(/\/+$/, ""), token };
  const { loaded, paths } = loadHomeProfile(args, io);
  const address = daemonAddress(paths.home, "start one with edgetrain run, or give --url");
  const fixed = token ?? loaded.profile?.api.token;
  // A daemon restarted on this home may listen on another port: follow its daemon.json.
  const readUrl = () => {
    try {
      return daemonAddress(paths.home).url;
    } catch {
      return undefined;
    }
  };
  // It also makes a new token: read it again rather than keep a stale one.
  if (fixed) return { url: address.url, token: fixed, readUrl };
  return { url: address.url, readToken: () => homeToken(paths.home), readUrl };
}

export function needsTerminal(io: CommandIo): void {
  if (!interactiveTerminal(io))
    throw new EdgetrainError("bad_input", "edgetrain tui draws on a terminal, and this is not one", {
      hint: "use edgetrain status, or the HTTP API (curl …/v1/status)",
    });
}

export const tuiCommand: Command = {
  name: "tui",
  summary: "attach the terminal UI to a running daemon (local or --url)",
  description:
    "Shows what the daemon does — readings, governor, queue, runs, models, jobs, logs, profile — and answers its " +
    "conflict questions. It is a client of the HTTP API, so it can watch a daemon on another host. Quitting (q) " +
    "never stops the daemon. Needs a terminal.",
  options: {
    url: { type: "string", value: "URL", description: "the daemon's address (default: the home's daemon.json)" },
    token: {
      type: "string",
      value: "TOKEN",
      description: "its API token (default EDGETRAIN_TOKEN, the profile's api.token or the home's)",
    },
    json: {
      type: "boolean",
      description: "errors as {code, message, hint} on stderr (the TUI itself draws on the terminal)",
    },
    hub: {
      type: "boolean",
      description: "attach to a fleet hub (edgetrain hub) instead: its Fleet screen; --home is then the hub's home",
    },
    ...homeOptions,
  },
  examples: [
    "edgetrain tui",
    'edgetrain tui --url http://jetson-7.local:8470 --token "$EDGETRAIN_TOKEN"',
    "edgetrain tui --hub",
  ],
  async run(args, io) {
    needsTerminal(io);
    const hub = Boolean(args.values.hub);
    const connection = hub ? hubConnection(args, io) : tuiConnection(args, io);
    const { runTui } = await import("../../../tui/start.tsx");
    await runTui(connection, { hub });
    return 0;
  },
};
