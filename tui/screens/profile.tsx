import { Box, Text } from "ink";
import type { DaemonSnapshot } from "../use-daemon.ts";

/** The resolved profile with where each value came from (secrets masked by the daemon); ↑↓ scroll. */
export function ProfileScreen({
  snapshot,
  offset,
  height,
}: {
  snapshot: DaemonSnapshot;
  offset: number;
  height: number;
}) {
  const lines = (snapshot.profile?.text ?? "loading…").split("\n");
  const start = Math.max(0, Math.min(offset, lines.length - height));
  return (
    <Box flexDirection="column">
      {lines.slice(start, start + height).map((line, i) => (
        <Text key={i} wrap="truncate">
          {line}
        </Text>
      ))}
    </Box>
  );
}
