import { Box, Text, useApp, useInput, useStdout } from "ink";
import { useState } from "react";
import { ColorContext, useColor } from "./components/theme.tsx";
import type { Connection } from "./connection.ts";
import { Fleet } from "./screens/fleet.tsx";
import { useFleet } from "./use-fleet.ts";

export interface FleetAppProps {
  connection: Connection;
  color: boolean;
  refreshMs?: number;
}

/** The TUI attached to a fleet hub (`edgetrain tui --hub`): its Fleet screen. Quitting leaves the hub running. */
export function FleetApp(props: FleetAppProps) {
  return (
    <ColorContext.Provider value={props.color}>
      <FleetDashboard {...props} />
    </ColorContext.Provider>
  );
}

function FleetDashboard({ connection, refreshMs }: FleetAppProps) {
  const { exit } = useApp();
  const { stdout } = useStdout();
  const color = useColor();
  const snapshot = useFleet(connection, refreshMs);
  const [offset, setOffset] = useState(0);
  const rows = (stdout as NodeJS.WriteStream).rows || 24;
  useInput((input, key) => {
    if (input === "q") return exit();
    if (key.upArrow) setOffset((value) => Math.max(0, value - 1));
    if (key.downArrow) setOffset((value) => Math.min(Math.max(0, snapshot.devices.length - 1), value + 1));
  });
  const live = snapshot.link === "live";
  return (
    <Box flexDirection="column">
      <Box justifyContent="space-between">
        <Text bold wrap="truncate">
          edgetrain hub · {connection.url} · Fleet
        </Text>
        <Text color={color(live ? "green" : "yellow")}>
          {live ? "● live" : snapshot.link === "connecting" ? "connecting…" : "reconnecting…"}
        </Text>
      </Box>
      <Box flexDirection="column" height={rows - 2}>
        <Fleet snapshot={snapshot} offset={offset} height={rows - 2} now={Date.now()} />
      </Box>
      <Text dimColor wrap="truncate">
        {!live && snapshot.error ? `${snapshot.error} · ` : ""}↑↓ scroll devices · q quit (the hub keeps running)
      </Text>
    </Box>
  );
}
