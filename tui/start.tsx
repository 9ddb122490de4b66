import { render } from "ink";
import { App } from "./app.tsx";
import { colorWanted } from "./components/theme.tsx";
import type { Connection } from "./connection.ts";
import { FleetApp } from "./fleet-app.tsx";

/** Draws the TUI on this terminal until q; quitting leaves the daemon running. */
export async function runTui(
  connection: Connection,
  options: { stdout?: NodeJS.WriteStream; stdin?: NodeJS.ReadStream; refreshMs?: number; hub?: boolean } = {},
): Promise<void> {
  const stdout = options.stdout ?? process.stdout;
  const color = colorWanted(stdout, process.env);
  // Attached to a fleet hub (edgetrain hub), the TUI shows its Fleet screen.
  const screen = options.hub ? (
    <FleetApp connection={connection} color={color} refreshMs={options.refreshMs} />
  ) : (
    <App connection={connection} color={color} refreshMs={options.refreshMs} />
  );
  const app = render(screen, {
    stdout,
    stdin: options.stdin ?? process.stdin,
    patchConsole: false,
    exitOnCtrlC: true,
    // A terminal is a terminal, in CI too (Ink would otherwise draw only the last frame when CI is set).
    interactive: Boolean(stdout.isTTY),
    // The terminal's own screen comes back when the TUI quits.
    alternateScreen: true,
  });
  await app.waitUntilExit();
}
