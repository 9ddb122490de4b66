import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { FleetModelVersion, FleetRollout } from "../../api/fleet-contract.ts";
import { EdgetrainError } from "../../errors.ts";
import { makeHomeFolder } from "../../files/make-home-folder.ts";
import { hubKeyFile, loadHubKey } from "../../fleet/hub/hub-key.ts";
import { parseDuration, parseShare, parseWaves } from "../../fleet/hub/rollout-plan.ts";
import { LogSink } from "../../log/logger.ts";
import { type Command, type CommandIo, type ParsedArgs, portFlag, stringFlag } from "../command.ts";
import { hubClient, hubClientOptions, hubHome } from "../hub-client.ts";
import { hubProfile } from "../hub-profile.ts";
import { writeAnswer } from "../json-answer.ts";

const percent = (share: number) => `${Math.round(share * 1000) / 10}%`;

const ROLLOUT_ACTIONS = ["pause", "resume", "abort"] as const;
const isRolloutAction = (action: string | undefined): action is (typeof ROLLOUT_ACTIONS)[number] =>
  (ROLLOUT_ACTIONS as readonly string[]).includes(action ?? "");

export const hubCommand: Command = {
  name: "hub",
  summary: "run the fleet hub, print its key, publish a model to devices, roll it back, steer a rollout",
  description:
    "Without an action, runs the fleet hub in the foreground: devices register with it and heartbeat over MQTT " +
    "(or the HTTP transport), and it rolls model versions out to them. Without --broker it starts an embedded " +
    "MQTT broker on 127.0.0.1 (--broker-port, default 1883); with --broker it connects to Mosquitto or EMQX (user" +
    " --broker-user, password from EDGETRAIN_BROKER_PASSWORD). Its address goes to <home>/hub.json and one JSON " +
    "line on stdout.\n" +
    "key prints the hub's public key for the devices' fleet.trust (the key is made on the first start, " +
    "<home>/hub.key, mode 0600).\n" +
    "publish MODEL FILE.onnx hands the file to the running hub and rolls it out in waves: the next wave starts " +
    "when every device of the current one has reported or --wave-timeout passed, as long as failures stay within " +
    "--max-failures; past that the rollout halts by itself.\n" +
    "rollback MODEL announces the version before the last one rolled out, to every device of --group at once.\n" +
    "pause ROLLOUT holds its next wave; resume ROLLOUT goes on after a pause or a halt (a halted one only while " +
    "its failures, late reports counted, stay within its limit, or a higher --max-failures), giving the current " +
    "wave's silent devices a whole --wave-timeout again; abort ROLLOUT stops it.",
  arguments: [
    {
      name: "action",
      optional: true,
      choices: ["key", "publish", "rollback", ...ROLLOUT_ACTIONS],
      description: "key, publish, rollback, pause, resume or abort (none: run the hub)",
    },
    {
      name: "args",
      optional: true,
      variadic: true,
      description: "publish: MODEL FILE.onnx; rollback: MODEL; pause, resume, abort: ROLLOUT",
    },
  ],
  options: {
    profile: {
      type: "string",
      short: "p",
      value: "NAME",
      description: "profile whose hub: section sets what no flag does (default: the hub home's profile.yaml)",
    },
    broker: {
      type: "string",
      value: "URL",
      description: "an MQTT broker to use (mqtt:// or mqtts://) instead of the embedded one",
    },
    "broker-port": {
      type: "string",
      value: "N",
      description: "the embedded broker's port on 127.0.0.1 (default 1883; 0 picks one)",
    },
    "broker-user": { type: "string", value: "USER", description: "the hub's user at --broker" },
    host: { type: "string", value: "ADDR", description: "where the API listens (default 127.0.0.1)" },
    port: { type: "string", value: "N", description: "the API's port (default 8471; 0 picks one)" },
    "public-url": {
      type: "string",
      value: "URL",
      description: "the address devices download models from (default: the API's)",
    },
    database: {
      type: "string",
      value: "URL",
      description: "PostgreSQL (postgres://…) to hold the registry and heartbeats (default: the home's hub.db)",
    },
    "keep-days": {
      type: "string",
      value: "N",
      description: "days of heartbeats kept, one a minute past the first day (default 7)",
    },
    group: { type: "string", value: "G", description: "publish/rollback: only the devices of this group" },
    waves: {
      type: "string",
      value: "LIST",
      description: "publish: cumulative shares per wave (default 1%,10%,50%,100%)",
    },
    "max-failures": {
      type: "string",
      value: "SHARE",
      description: "publish: failures past this share halt the rollout (default 5%); resume: a new limit",
    },
    "wave-timeout": {
      type: "string",
      value: "DURATION",
      description: "publish: how long a wave waits for its reports (default 10m)",
    },
    version: { type: "string", value: "N", description: "publish: the version number (default: the hub's newest + 1)" },
    ...hubClientOptions,
  },
  examples: [
    "edgetrain hub --home /srv/edgetrain-hub",
    "edgetrain hub --broker mqtts://broker.lab:8883 --broker-user hub --host 0.0.0.0 --public-url https://hub.lab",
    "edgetrain hub key",
    "edgetrain hub publish player_1 model.onnx --group lab-a --waves 10%,50%,100% --max-failures 5%",
    "edgetrain hub rollback player_1 --group lab-a",
    "edgetrain hub resume r-1a2b3c4d5e --max-failures 20%",
  ],
  async run(args, io) {
    const [action, ...rest] = args.positionals;
    if (action === "key") {
      const home = hubHome(args, io);
      makeHomeFolder(home, [home]);
      // A typo in --home would otherwise print a fresh key that no hub signs with, and every update be refused.
      if (!existsSync(hubKeyFile(home)))
        io.stderr.write(`edgetrain: no hub has run in ${home}: made a new hub key there\n`);
      const { publicKey } = loadHubKey(home);
      writeAnswer(io, args, { public_key: publicKey }, `${publicKey}\n`);
      return 0;
    }
    if (action === "publish") return publish(args, io, rest);
    if (action === "rollback") return rollback(args, io, rest);
    if (isRolloutAction(action)) return steer(args, io, action, rest);
    return runHub(args, io);
  },
};

async function runHub(args: ParsedArgs, io: CommandIo): Promise<number> {
  const home = hubHome(args, io);
  const profile = hubProfile(args, io, home);
  // Its log is the first file the hub writes there.
  makeHomeFolder(home, [home]);
  const logs = new LogSink({
    level: "info",
    file: join(home, "hub.log"),
    rotate: { maxBytes: 10 * 1024 * 1024, keep: 3 },
    console: {
      write: (text) => io.stderr.write(text),
      isTTY: io.stderr.isTTY,
      color: io.color,
      journal: io.stderr.journal,
    },
  });
  const brokerPort = stringFlag(args, "broker-port");
  const keepDays = stringFlag(args, "keep-days");
  // Loaded only to run the hub: the broker, MQTT and the hub's API stay out of every other command's start.
  const { Hub } = await import("../../fleet/hub/hub.ts");
  const hub = await Hub.start({
    home,
    broker: stringFlag(args, "broker") ?? profile.broker,
    brokerUsername: stringFlag(args, "broker-user") ?? profile.broker_user,
    brokerPassword: io.environment.variables.EDGETRAIN_BROKER_PASSWORD,
    brokerPort: brokerPort === undefined ? profile.broker_port : wholeNumber(brokerPort, "--broker-port"),
    host: stringFlag(args, "host") ?? profile.host,
    port: portFlag(args) ?? profile.port,
    publicUrl: (stringFlag(args, "public-url") ?? profile.public_url)?.replace(/\/+$/, ""),
    keepDays: keepDays === undefined ? profile.keep_days : wholeNumber(keepDays, "--keep-days"),
    database: databaseFlag(args) ?? profile.database,
    logger: logs.logger(),
  }).catch((error: unknown) => {
    logs.close();
    throw error;
  });
  io.stdout.write(`${JSON.stringify({ ...hub.address(), home })}\n`);
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", () => resolve());
    process.once("SIGINT", () => resolve());
  });
  await hub.stop();
  logs.close();
  return 0;
}

async function publish(args: ParsedArgs, io: CommandIo, [model, file]: string[]): Promise<number> {
  if (!model || !file)
    throw new EdgetrainError("usage", "edgetrain hub publish needs MODEL FILE.onnx", {
      hint: "see edgetrain hub --help",
    });
  const plan = {
    waves: parseWaves(stringFlag(args, "waves") ?? "1%,10%,50%,100%"),
    max_failures: parseShare(stringFlag(args, "max-failures") ?? "5%", "--max-failures"),
    wave_timeout_ms: parseDuration(stringFlag(args, "wave-timeout") ?? "10m", "--wave-timeout"),
  };
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch {
    throw new EdgetrainError("not_found", `no model file ${file}`, { details: { file } });
  }
  const client = hubClient(args, io);
  const versionFlag = stringFlag(args, "version");
  const query = versionFlag === undefined ? "" : `?version=${wholeNumber(versionFlag, "--version")}`;
  const added = await client.call<FleetModelVersion>(
    "POST",
    `/v1/fleet/models/${encodeURIComponent(model)}${query}`,
    bytes,
  );
  const group = stringFlag(args, "group");
  const rollout = await client
    .call<FleetRollout>("POST", "/v1/fleet/rollouts", { model, version: added.version, group, ...plan })
    .catch(async (error: unknown) => {
      // A publish that fails leaves nothing behind: a version stored but never rolled out is only a trap.
      await client.call("DELETE", `/v1/fleet/models/${encodeURIComponent(model)}/${added.version}`).catch(() => {});
      throw error;
    });
  const devices = Object.values(rollout.counts).reduce((sum, n) => sum + n, 0);
  const text =
    `rollout ${rollout.id}: ${model} v${added.version} (${added.size} bytes, sha256 ${added.sha256.slice(0, 12)}…) ` +
    `to ${devices} device(s)${group ? ` of group ${group}` : ""} in waves ${plan.waves.map(percent).join(", ")}\n` +
    `follow it: edgetrain fleet rollout ${rollout.id}\n`;
  writeAnswer(io, args, rollout, text);
  return 0;
}

async function rollback(args: ParsedArgs, io: CommandIo, [model]: string[]): Promise<number> {
  if (!model)
    throw new EdgetrainError("usage", "edgetrain hub rollback needs MODEL", { hint: "see edgetrain hub --help" });
  const group = stringFlag(args, "group");
  const rollout = await hubClient(args, io).call<FleetRollout>("POST", "/v1/fleet/rollbacks", { model, group });
  const text =
    `rollout ${rollout.id}: ${model} back to v${rollout.version}${group ? ` on group ${group}` : ""}\n` +
    `follow it: edgetrain fleet rollout ${rollout.id}\n`;
  writeAnswer(io, args, rollout, text);
  return 0;
}

async function steer(
  args: ParsedArgs,
  io: CommandIo,
  action: (typeof ROLLOUT_ACTIONS)[number],
  [id, ...extra]: string[],
): Promise<number> {
  if (!id || extra.length > 0)
    throw new EdgetrainError("usage", `edgetrain hub ${action} needs one ROLLOUT`, {
      hint: "list them: edgetrain fleet rollouts",
    });
  const limit = stringFlag(args, "max-failures");
  if (limit !== undefined && action !== "resume")
    throw new EdgetrainError("usage", `--max-failures goes with publish or resume, not ${action}`);
  const body = limit === undefined ? undefined : { max_failures: parseShare(limit, "--max-failures") };
  const path = `/v1/fleet/rollouts/${encodeURIComponent(id)}/${action}`;
  const rollout = await hubClient(args, io).call<FleetRollout>("POST", path, body);
  const text =
    `rollout ${rollout.id}: ${rollout.state}${rollout.reason ? ` (${rollout.reason})` : ""}, ` +
    `wave ${rollout.wave}/${rollout.waves.length}\nfollow it: edgetrain fleet rollout ${rollout.id}\n`;
  writeAnswer(io, args, rollout, text);
  return 0;
}

function databaseFlag(args: ParsedArgs): string | undefined {
  const url = stringFlag(args, "database");
  if (url !== undefined && !/^postgres(ql)?:\/\//.test(url)) {
    throw new EdgetrainError(
      "usage",
      "--database: expected a postgres:// URL; without it the hub keeps everything in hub.db",
    );
  }
  return url;
}

function wholeNumber(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0)
    throw new EdgetrainError("usage", `${flag} ${text}: expected a whole number`);
  return value;
}
