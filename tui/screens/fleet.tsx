import { Box, Text } from "ink";
import type { FleetDevice, FleetRollout } from "../../runtime/api/contract.ts";
import { ago, ProgressBar } from "../components/gauges.tsx";
import { useColor } from "../components/theme.tsx";
import { stateOf } from "../device-state.ts";
import type { FleetSnapshot } from "../use-fleet.ts";

/** By the hub's number; a version trained or imported on the device has none: `local v6`, its own. */
const versions = (device: FleetDevice) =>
  device.models
    .map(({ model, version, local_version }) =>
      version !== null || (local_version ?? null) === null
        ? `${model} v${version ?? "?"}`
        : `${model} local v${local_version}`,
    )
    .join(", ") || "-";

/** Reported share of a rollout's devices, and how many failed. */
function reported(rollout: FleetRollout): { fraction: number; failed: number; total: number } {
  const counts = rollout.counts;
  const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
  const failed = counts.rejected + counts.failed + counts.rolled_back;
  return { fraction: total ? (failed + counts.activated + counts.verified) / total : 0, failed, total };
}

/** The hub's fleet: devices online and offline with versions and heartbeat age, then rollouts with progress bars. */
export function Fleet({
  snapshot,
  offset,
  height,
  now,
}: {
  snapshot: FleetSnapshot;
  offset: number;
  height: number;
  now: number;
}) {
  const color = useColor();
  const registered = snapshot.devices.filter((device) => device.registered);
  const online = registered.filter((device) => device.online).length;
  const unregistered = snapshot.devices.length - registered.length;
  const rollouts = snapshot.rollouts.slice(0, Math.max(1, Math.floor(height / 3)));
  const rows = Math.max(1, height - rollouts.length - 4);
  const shown = snapshot.devices.slice(offset, offset + rows);
  return (
    <Box flexDirection="column">
      <Text>
        Devices: <Text color={color("green")}>{online} online</Text> ·{" "}
        <Text color={color(online < registered.length ? "red" : "gray")}>{registered.length - online} offline</Text>
        {unregistered > 0 ? <Text color={color("yellow")}> · {unregistered} unregistered</Text> : null}
      </Text>
      <Text bold wrap="truncate">
        {"  DEVICE               STATE        HEARTBEAT  VERSIONS"}
      </Text>
      {shown.map((device) => (
        <Text key={device.id} wrap="truncate">
          <Text color={color(!device.registered ? "yellow" : device.online ? "green" : "red")}>
            {device.registered && device.online ? "● " : "○ "}
          </Text>
          {device.id.padEnd(20).slice(0, 20)} {stateOf(device).padEnd(12)}{" "}
          {ago(device.last_heartbeat_at ?? undefined, now).padEnd(10)} {versions(device)}
        </Text>
      ))}
      {snapshot.devices.length === 0 ? <Text dimColor>no device has registered yet</Text> : null}
      <Text bold wrap="truncate">
        Rollouts
      </Text>
      {rollouts.map((rollout) => {
        const progress = reported(rollout);
        return (
          <Text key={rollout.id} wrap="truncate">
            {`  ${rollout.id} ${rollout.model} v${rollout.version} ${rollout.device_group ?? "all"} `.padEnd(36)}
            <Text
              color={color(rollout.state === "halted" ? "red" : rollout.state === "completed" ? "green" : "yellow")}
            >
              {rollout.state.padEnd(10)}
            </Text>
            {`wave ${rollout.wave}/${rollout.waves.length} `}
            <ProgressBar fraction={progress.fraction} width={20} />
            {` ${progress.total} devices${progress.failed ? `, ${progress.failed} failed` : ""}`}
            {rollout.reason ? ` · ${rollout.reason}` : ""}
          </Text>
        );
      })}
      {snapshot.rollouts.length === 0 ? (
        <Text dimColor>no rollouts yet: edgetrain hub publish MODEL FILE.onnx</Text>
      ) : null}
    </Box>
  );
}
