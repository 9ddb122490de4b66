import { Daemon } from "../../daemon.ts";
import { portFlag, stringFlag, type Command } from "../command.ts";
import { homeAndProfile, homeOptions } from "../home.ts";

export const runCommand: Command = {
  name: "run",
  summary: "start the daemon: load profile and plugins, open state, serve the local API",
  help: `Usage: edgetrain run [--profile P] [--home DIR] [--host H] [--port N] [--headless]

Starts edgetrain in the foreground. It refuses to start with a profile or plugin that has
problems, when another daemon holds the home, or on a non-loopback --host without api.token.
SIGTERM/SIGINT stop it cleanly within 5 s; SIGHUP re-reads the profile (a bad one is rejected
and the running one kept). The address is written to <home>/daemon.json.

Options:
  -p, --profile P   built-in profile name or file
      --home DIR    edgetrain home (default ~/.edgetrain)
      --host H      listen address (default api.host, 127.0.0.1)
      --port N      listen port (default api.port, 8470; 0 picks a free one)
      --headless    no terminal UI; logs only (the default until the TUI lands)`,
  options: { ...homeOptions, host: { type: "string" }, port: { type: "string" }, headless: { type: "boolean" } },
  async run(args, io) {
    const { profile, homeFlag } = homeAndProfile(args, io);
    const daemon = await Daemon.start({
      profile,
      environment: io.environment,
      overrides: { home: homeFlag, host: stringFlag(args, "host"), port: portFlag(args) },
      console: { write: (text) => io.stderr.write(text), isTTY: io.stderr.isTTY, color: io.color },
      headless: Boolean(args.values.headless),
    });
    daemon.handleSignals();
    io.stdout.write(`${JSON.stringify({ event: "listening", ...daemon.address() })}\n`);
    // The daemon lives until a signal stops it; handleSignals() exits the process.
    await new Promise(() => {});
    return 0;
  },
};
