import { stateOf } from "../../../tui/device-state.ts";
import type {
  FleetDevice,
  FleetDeviceDetail,
  FleetDeviceList,
  FleetRollout,
  FleetRolloutDetail,
  FleetRolloutList,
} from "../../api/fleet-contract.ts";
import { EdgetrainError } from "../../errors.ts";
import { type Command, type CommandIo, type ParsedArgs, stringFlag } from "../command.ts";
import { hubClient, hubClientOptions } from "../hub-client.ts";
import { writeJson } from "../json-answer.ts";
import { metricsText, writeTable } from "../table.ts";

const BAR = 20;

const percent = (share: number) => `${Math.round(share * 1000) / 10}%`;

export const fleetCommand: Command = {
  name: "fleet",
  summary: "list the hub's devices and rollouts, or show one",
  description:
    "Asks the fleet hub (edgetrain hub) of --home, or the one at --url with --token. devices lists every device with " +
    "its state, last heartbeat and model versions (filters: --group, --online/--offline, --model, --version); device " +
    "ID shows one with its latest heartbeats and deployments; rollouts lists the rollouts with their progress; " +
    "rollout ID shows each device's wave and state.",
  arguments: [
    {
      name: "what",
      choices: ["devices", "device", "rollouts", "rollout"],
      description: "devices, device, rollouts or rollout",
    },
    { name: "id", optional: true, description: "the device or rollout (for device and rollout)" },
  ],
  options: {
    group: { type: "string", value: "G", description: "devices: only this group's" },
    online: { type: "boolean", description: "devices: only those online" },
    offline: { type: "boolean", description: "devices: only those offline" },
    model: { type: "string", value: "MODEL", description: "devices: only those that run this model" },
    version: { type: "string", value: "N", description: "devices: with --model, only those on this version" },
    json: { type: "boolean", description: "print the hub's answer as JSON" },
    ...hubClientOptions,
  },
  examples: [
    "edgetrain fleet devices --group lab-a --offline",
    "edgetrain fleet device orin-7",
    "edgetrain fleet rollouts",
    "edgetrain fleet rollout r-1a2b3c4d5e --json",
  ],
  async run(args, io) {
    const [what, id] = args.positionals;
    if ((what === "devices" || what === "rollouts") && id !== undefined)
      throw new EdgetrainError("usage", `edgetrain fleet ${what} lists them all: "${id}" is not read`, {
        hint: `for one, edgetrain fleet ${what.slice(0, -1)} ${id}`,
      });
    // The filters are checked before the hub is asked: a wrong one is the command line's fault.
    const filters = what === "devices" ? deviceQuery(args) : "";
    const client = hubClient(args, io);
    if (what === "devices") {
      const answer = await client.call<FleetDeviceList>("GET", `/v1/fleet/devices${filters}`);
      if (args.values.json) return json(io, answer.devices);
      if (answer.devices.length === 0) io.stdout.write("no device matches\n");
      else
        writeTable(io.stdout, [
          ["DEVICE", "NAME", "GROUPS", "STATE", "HEARTBEAT", "MODELS"],
          ...answer.devices.map((device) => [
            device.id,
            device.name ?? "-",
            device.groups.join(",") || "-",
            stateOf(device),
            age(device.last_heartbeat_at),
            device.models.map((model) => running(model)).join(", ") || "-",
          ]),
        ]);
      return 0;
    }
    if (what === "rollouts") {
      const answer = await client.call<FleetRolloutList>("GET", "/v1/fleet/rollouts");
      if (args.values.json) return json(io, answer.rollouts);
      if (answer.rollouts.length === 0) io.stdout.write("no rollouts yet\n");
      else
        writeTable(io.stdout, [
          ["ROLLOUT", "MODEL", "VERSION", "GROUP", "STATE", "WAVE", "PROGRESS", "REASON"],
          ...answer.rollouts.map((rollout) => [
            rollout.id,
            rollout.model,
            `v${rollout.version}${rollout.kind === "rollback" ? " (rollback)" : ""}`,
            rollout.device_group ?? "all",
            rollout.state,
            `${rollout.wave}/${rollout.waves.length}`,
            progress(rollout),
            rollout.reason ?? "",
          ]),
        ]);
      return 0;
    }
    if (!id)
      throw new EdgetrainError(
        "usage",
        `edgetrain fleet ${what} needs the ${what === "device" ? "device" : "rollout"} id`,
        { hint: `list them: edgetrain fleet ${what}s` },
      );
    if (what === "device") {
      const device = await client.call<FleetDeviceDetail>("GET", `/v1/fleet/devices/${encodeURIComponent(id)}`);
      if (args.values.json) return json(io, device);
      const models = device.models.map((model) => `${running(model, true)} ${metricsText(model.metrics)}`);
      const heard = `last heartbeat ${age(device.last_heartbeat_at)}, over ${device.transport}`;
      io.stdout.write(
        `${[
          `device    ${device.id} (${device.name ?? "unnamed"}${device.location ? `, ${device.location}` : ""})`,
          `state     ${stateOf(device)}, ${heard}`,
          `groups    ${device.groups.join(", ") || "-"}`,
          `version   edgetrain ${device.info?.edgetrain_version ?? "?"}, profile ${device.info?.profile ?? "?"}`,
          `models    ${models.map((text) => text.trim()).join("; ") || "-"}`,
        ].join("\n")}\n\n`,
      );
      if (device.heartbeats.length)
        writeTable(io.stdout, [
          ["HEARTBEAT", "CPU", "MEMORY", "DISK", "TEMP", "GOVERNOR"],
          ...device.heartbeats
            .slice(0, 10)
            .map((beat) => [
              age(beat.received_at),
              ratio(beat.cpu_ratio),
              ratio(beat.memory_ratio),
              ratio(beat.disk_ratio),
              beat.temperature_c === undefined ? "-" : `${beat.temperature_c.toFixed(0)}°C`,
              beat.governor ?? "-",
            ]),
        ]);
      if (device.deployments.length) {
        io.stdout.write("\n");
        writeTable(io.stdout, [
          ["ROLLOUT", "MODEL", "VERSION", "STATE", "ANNOUNCED", "REASON"],
          ...device.deployments.map((deployment) => [
            deployment.rollout,
            deployment.model,
            `v${deployment.version}`,
            deployment.state.replace("_", " "),
            age(deployment.announced_at),
            deployment.reason ?? "",
          ]),
        ]);
      }
      return 0;
    }
    const rollout = await client.call<FleetRolloutDetail>("GET", `/v1/fleet/rollouts/${encodeURIComponent(id)}`);
    if (args.values.json) return json(io, rollout);
    const kind = rollout.kind === "rollback" ? " (rollback)" : "";
    const to = rollout.device_group ?? "every device";
    const waves = rollout.waves.map(percent).join(", ");
    io.stdout.write(
      `${[
        `rollout   ${rollout.id}: ${rollout.model} v${rollout.version}${kind} to ${to}`,
        `state     ${rollout.state}${rollout.reason ? `: ${rollout.reason}` : ""}`,
        `waves     ${rollout.wave}/${rollout.waves.length} (${waves}), max failures ${percent(rollout.max_failures)}`,
        `progress  ${progress(rollout)}`,
        ...rollout.halts.map(
          (halt) =>
            `halted    ${age(halt.at)}: ${halt.reason}` +
            (halt.resumed_at === null ? "" : `; resumed ${age(halt.resumed_at)}`),
        ),
      ].join("\n")}\n\n`,
    );
    writeTable(io.stdout, [
      ["DEVICE", "WAVE", "STATE", "REPORTED", "REASON"],
      ...rollout.devices.map((device) => [
        device.device,
        String(device.wave),
        device.state.replace("_", " "),
        age(device.reported_at),
        device.reason ?? "",
      ]),
    ]);
    return 0;
  },
};

function deviceQuery(args: ParsedArgs): string {
  const query = new URLSearchParams();
  const group = stringFlag(args, "group");
  const model = stringFlag(args, "model");
  const version = stringFlag(args, "version");
  if (args.values.online && args.values.offline)
    throw new EdgetrainError("usage", "--online and --offline together match nothing: give one");
  if (version !== undefined && model === undefined) throw new EdgetrainError("usage", "--version needs --model");
  if (version !== undefined && !/^[1-9]\d*$/.test(version))
    throw new EdgetrainError("usage", `--version ${version}: expected a version number (1, 2, …)`);
  if (group) query.set("group", group);
  if (args.values.online) query.set("online", "true");
  if (args.values.offline) query.set("online", "false");
  if (model) query.set("model", model);
  if (version) query.set("version", version);
  const text = query.toString();
  return text ? `?${text}` : "";
}

/**
 * `m v4` by the hub's number, which `--version` filters on; `m local v6` for a version trained or imported on
 * the device, which the hub has no number for. `detail` adds the device's own number where it differs.
 */
function running(model: FleetDevice["models"][number], detail = false): string {
  const local = model.local_version ?? null;
  if (model.version === null) return local === null ? `${model.model} v?` : `${model.model} local v${local}`;
  const own = detail && local !== null && local !== model.version ? ` (local v${local})` : "";
  return `${model.model} v${model.version}${own}`;
}

/** `[██████░░░░] 6/10 reported, 1 failed` */
function progress(rollout: FleetRollout): string {
  const counts = rollout.counts;
  const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
  const failed = counts.rejected + counts.failed + counts.rolled_back;
  const reported = failed + counts.activated + counts.verified;
  const filled = total ? Math.round((reported / total) * BAR) : 0;
  const bar = `[${"█".repeat(filled)}${"░".repeat(BAR - filled)}]`;
  return `${bar} ${reported}/${total} reported${failed ? `, ${failed} failed` : ""}`;
}

function age(at: number | null): string {
  if (at === null) return "never";
  const seconds = Math.max(0, Math.round((Date.now() - at) / 1000));
  if (seconds < 120) return `${seconds}s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m ago`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h ago`;
  return `${Math.round(seconds / 86_400)}d ago`;
}

function ratio(value: number | undefined): string {
  return value === undefined ? "-" : `${Math.round(value * 100)}%`;
}

function json(io: CommandIo, value: unknown): number {
  writeJson(io, value);
  return 0;
}
