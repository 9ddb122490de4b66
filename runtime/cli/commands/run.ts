import { Daemon } from "../../daemon.ts";
import { type Command, interactiveTerminal, portFlag, stringFlag } from "../command.ts";
import { homeAndProfile, homeOptions } from "../home.ts";
import { writeJson } from "../json-answer.ts";

/** The TUI on this terminal, attached to the daemon in this process like any other client. */
export async function openTui(daemon: Daemon): Promise<void> {
  const { runTui } = await import("../../../tui/start.tsx");
  await runTui({ url: daemon.address().url.replace("0.0.0.0", "127.0.0.1"), token: daemon.token() });
}

export const runCommand: Command = {
  name: "run",
  summary: "start the daemon: load profile and plugins, open state, serve the local API",
  description:
    "Starts edgetrain in the foreground. It refuses to start with a profile or plugin that has problems, when " +
    "another daemon holds the home, or on a non-loopback --host without api.token. The address is written to " +
    "<home>/daemon.json; without the TUI it is also printed as one JSON line.\n\n" +
    "SIGTERM/SIGINT stop it cleanly within 5 s; SIGHUP re-reads the profile (a bad one is rejected and the running " +
    "one kept), except when started on a terminal: there SIGHUP is the terminal closing, and it stops.\n\n" +
    "On a terminal the TUI opens; quitting it (q) leaves the daemon running here, logging, until Ctrl-C.",
  options: {
    ...homeOptions,
    host: { type: "string", value: "HOST", description: "listen address (default api.host, 127.0.0.1)" },
    port: { type: "string", value: "N", description: "listen port (default api.port, 8470; 0 picks a free one)" },
    headless: {
      type: "boolean",
      description: "no terminal UI, logs on stderr (the default without a terminal and under systemd)",
    },
    json: {
      type: "boolean",
      description: "no terminal UI; print the address as one JSON line {event, url, port, pid}; errors as JSON",
    },
  },
  examples: ["edgetrain run", "edgetrain run --headless --profile jetson-orin --port 8470"],
  async run(args, io) {
    const { profile, homeFlag } = homeAndProfile(args, io);
    const withTui = !args.values.headless && !args.values.json && interactiveTerminal(io);
    // While the TUI owns the terminal, log lines go to the file and the TUI's log screen only.
    let quiet = withTui;
    const daemon = await Daemon.start({
      profile,
      environment: io.environment,
      overrides: { home: homeFlag, host: stringFlag(args, "host"), port: portFlag(args) },
      console: {
        write: (text) => void (quiet || io.stderr.write(text)),
        isTTY: io.stderr.isTTY,
        color: io.color,
        journal: io.stderr.journal,
      },
      // Attended unless told otherwise: a TUI or an API client can answer conflict questions.
      headless: Boolean(args.values.headless),
    });
    daemon.handleSignals({ onTerminal: Boolean(process.stdin.isTTY) });
    if (withTui) {
      await openTui(daemon);
      quiet = false;
      io.stderr.write("TUI closed; the daemon keeps running here (Ctrl-C stops it, edgetrain tui attaches again)\n");
    } else writeJson(io, { event: "listening", ...daemon.address() });
    // The daemon lives until a signal stops it; handleSignals() exits the process.
    await new Promise(() => {});
    return 0;
  },
};
