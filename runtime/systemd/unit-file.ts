import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import type { Profile } from "../config/schema.ts";
import type { ResolvedPaths } from "../plugin-api.ts";
import { sandboxLines } from "./sandbox.ts";
import { commandWord, literal, quoted, refuseLineBreaks, type UnitValue } from "./unit-values.ts";

export const UNIT_NAME = "edgetrain.service";
/** The home of a system service given none, made and owned by systemd (StateDirectory=). */
export const SERVICE_HOME = "/var/lib/edgetrain";
/** Its logs: /var/log/edgetrain (LogsDirectory=). */
export const SERVICE_LOGS = "/var/log/edgetrain";
/** Room for the daemon, the API and loaded models on top of what one training run may use. */
const DAEMON_HEADROOM_MB = 512;
/** A daemon whose event loop has not answered for this long is killed and restarted. */
export const WATCHDOG_SECONDS = 60;
/**
 * JavaScriptCore collects each time this many bytes were allocated, not once its heap has doubled: under a
 * steady stream of requests the daemon's memory then stays level instead of rising in a sawtooth. The runtime
 * reads it only from its environment at start.
 */
export const HEAP_ENVIRONMENT = "BUN_JSC_gcMaxHeapSize=16000000";
/** The first start extracts ONNX Runtime into the cache and may migrate the state database. */
const START_LIMIT_SECONDS = 120;

/** systemd makes these for the service's user, mode 0700, and keeps them across upgrades. */
const SERVICE_DIRECTORIES = [
  "StateDirectory=edgetrain",
  "StateDirectoryMode=0700",
  "LogsDirectory=edgetrain",
  "LogsDirectoryMode=0700",
];

export interface UnitRequest {
  profile: Profile;
  /** What `--profile` names: a built-in profile or a file, by its absolute path. */
  profileRef: string;
  /** The profile's files, the one named and those it extends, absolute: the daemon reads them at each start. */
  profileFiles: string[];
  paths: ResolvedPaths;
  /** The home is SERVICE_HOME, under StateDirectory= and LogsDirectory=. */
  serviceHome: boolean;
  /** The executable, and the entry script when run from source. */
  command: string[];
  /** Folders the profile writes besides its paths: its plugins' and its predictors' lockfiles' (profileWrites). */
  writes: UnitValue[];
  /** A system unit's user; none for a user unit. */
  user?: string;
  userUnit: boolean;
  environmentFile: string;
}

/** The one text of `edgetrain.service`: `service install` writes it and `--dry-run` prints it. */
export function unitText(request: UnitRequest): string {
  refuseLineBreaks(unitValues(request));
  const { profile, paths } = request;
  const cores = profile.governor.workers ?? availableParallelism();
  const limitMb = profile.governor.memory_limit_mb;
  const execStart = [...request.command, "run", "--headless", "--profile", request.profileRef, "--home", paths.home];
  const logs = request.serviceHome ? [`EDGETRAIN_LOGS=${SERVICE_LOGS}`] : [];
  const environment = [`EDGETRAIN_HOME=${paths.home}`, ...logs, HEAP_ENVIRONMENT];
  const sandbox = sandboxLines({
    device: profile.device,
    writable: writablePaths(request),
    readable: readablePaths(request),
    userUnit: request.userUnit,
  });
  return `# Written by \`edgetrain service install\`. Secrets (EDGETRAIN_TOKEN, database passwords) go in the
# EnvironmentFile, not here.
[Unit]
Description=edgetrain: keeps ML models fresh on this device (profile ${literal(request.profileRef)})
After=network-online.target
Wants=network-online.target
StartLimitIntervalSec=300
StartLimitBurst=5

[Service]
# Ready once the API listens and the state database is open; a daemon silent for WatchdogSec is restarted.
Type=notify
NotifyAccess=main
WatchdogSec=${WATCHDOG_SECONDS}
# Killed outright: on SIGABRT, the default, Bun prints a crash report that blames Bun for the hang.
WatchdogSignal=SIGKILL
ExecStart=${execStart.map(commandWord).join(" ")}
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
RestartSec=5
TimeoutStartSec=${START_LIMIT_SECONDS}
TimeoutStopSec=10
KillSignal=SIGTERM
${lines(request.user ? [`User=${request.user}`] : [])}\
${lines(environment.map((line) => `Environment=${quoted(line)}`))}\
EnvironmentFile=-${literal(request.environmentFile)}
${lines(request.serviceHome ? SERVICE_DIRECTORIES : [])}\
StandardOutput=journal
StandardError=journal
SyslogIdentifier=edgetrain

# From the profile: governor.workers (${cores}) cores, and governor.memory_limit_mb (${limitMb} MB) plus
# ${DAEMON_HEADROOM_MB} MB for the daemon; the kernel reclaims past MemoryHigh before MemoryMax kills.
CPUQuota=${cores * 100}%
MemoryHigh=${limitMb + DAEMON_HEADROOM_MB / 2}M
MemoryMax=${limitMb + DAEMON_HEADROOM_MB}M

# Sandbox: see docs/operations.md for what each line keeps out and why some are left off.
${lines(sandbox)}
[Install]
WantedBy=${request.userUnit ? "default.target" : "multi-user.target"}
`;
}

/** Every value the unit is written with that came from outside: the command line, the profile, the user. */
function unitValues(request: UnitRequest): UnitValue[] {
  const { home, plugins, ...inProfile } = request.paths;
  return [
    { from: "--profile", value: request.profileRef },
    ...request.command.map((value) => ({ from: "--exec", value })),
    { from: "the home", value: home },
    ...Object.entries(inProfile).map(([key, value]) => ({ from: `paths.${key}`, value, inProfile: true })),
    { from: "plugins_dir", value: plugins, inProfile: true },
    ...request.writes,
    { from: "--run-as", value: request.user ?? "" },
    { from: "the EnvironmentFile", value: request.environmentFile },
  ];
}

/**
 * What ProtectSystem=strict must leave writable: the home, the profile's paths and the folders it writes besides
 * them, each once, none inside another; StateDirectory= and LogsDirectory= already open the service home's.
 */
export function writablePaths(request: Pick<UnitRequest, "paths" | "serviceHome" | "writes">): string[] {
  const { home, data, models, cache, logs, state } = request.paths;
  const wanted = [home, data, models, cache, logs, state, ...request.writes.map(({ value }) => value)];
  const folders = unique(wanted.map((path) => resolve(path)));
  const systemdMakes = request.serviceHome ? [SERVICE_HOME, SERVICE_LOGS] : [];
  const opened = (path: string) => systemdMakes.some((top) => isUnder(path, top));
  const inAnother = (path: string) => folders.some((top) => top !== path && isUnder(path, top));
  return folders.filter((path) => !opened(path) && !inAnother(path));
}

function readablePaths(request: UnitRequest): string[] {
  return unique([...request.command, ...request.profileFiles, request.paths.plugins]);
}

/** Each entry on a line of its own, newline-terminated; nothing for none. */
function lines(entries: string[]): string {
  return entries.map((entry) => `${entry}\n`).join("");
}

function isUnder(path: string, top: string): boolean {
  return path === top || path.startsWith(`${top}/`);
}

function unique(paths: string[]): string[] {
  return [...new Set(paths)];
}
