import type { Profile } from "../config/schema.ts";
import { quoted } from "./unit-values.ts";

/** What the sandbox must leave open: the folders edgetrain writes and the files it runs or reads from. */
export interface SandboxNeeds {
  device: Profile["device"];
  /** Written to: the home and any path of the profile outside it. */
  writable: string[];
  /** Read: the executable, a source tree, a profile file, a plugins folder. */
  readable: string[];
  /** A unit of the user's own service manager: no mount namespace there without user namespaces. */
  userUnit: boolean;
}

/** The folders ProtectHome= hides. */
const USER_HOMES = ["/home", "/root", "/run/user"];
/** The folders PrivateTmp= replaces with the service's own. */
const SHARED_TEMP = ["/tmp", "/var/tmp"];

/**
 * The hardening lines of the unit. Kept out: MemoryDenyWriteExecute (the JavaScript JIT writes code),
 * ProtectProc=invisible and PrivateUsers (the conflict guard reads other users' processes), ProcSubset=pid
 * (the governor reads /proc/stat and /proc/meminfo), IPAddressDeny (data sources and the fleet connect out).
 */
export function sandboxLines(needs: SandboxNeeds): string[] {
  const lines = [
    "UMask=0077",
    "NoNewPrivileges=yes",
    "LockPersonality=yes",
    "RestrictRealtime=yes",
    "RestrictSUIDSGID=yes",
    "RestrictNamespaces=yes",
    // AF_NETLINK: listing network interfaces (getifaddrs) for the fleet's device facts.
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",
    "SystemCallArchitectures=native",
    // @system-service keeps sched_setscheduler and setpriority, which put a run's threads in the idle class.
    "SystemCallFilter=@system-service",
    "SystemCallFilter=~@privileged",
    // A call the filter refuses fails with EPERM rather than killing the daemon.
    "SystemCallErrorNumber=EPERM",
  ];
  // A user's service manager sets up no mount namespace or capability bounds without user namespaces.
  if (needs.userUnit) return lines;
  return [...lines, ...systemOnlyLines(needs)];
}

function systemOnlyLines(needs: SandboxNeeds): string[] {
  const needed = [...needs.writable, ...needs.readable];
  const under = (tops: string[]) => needed.some((path) => tops.some((top) => isUnder(path, top)));
  const lines = [
    "CapabilityBoundingSet=",
    "AmbientCapabilities=",
    "ProtectSystem=strict",
    // "-": a home deleted meanwhile lets the daemon start and say so, where systemd would fail with 226/NAMESPACE.
    ...needs.writable.map((path) => `ReadWritePaths=${quoted(`-${path}`)}`),
    // read-only rather than yes where something edgetrain needs lives in a user's home: ReadWritePaths=
    // reopens a folder inside a read-only /home, but not inside a hidden one.
    `ProtectHome=${under(USER_HOMES) ? "read-only" : "yes"}`,
    // A home or a profile in /tmp would be out of sight of the service behind a private /tmp.
    `PrivateTmp=${under(SHARED_TEMP) ? "no" : "yes"}`,
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectHostname=yes",
    "RemoveIPC=yes",
  ];
  return [...lines, ...deviceLines(needs.device)];
}

/**
 * A GPU server keeps the NVIDIA devices (nvidiactl, nvidia0…, nvidia-uvm, nvidia-caps) by device group.
 * A Jetson keeps /dev: its GPU nodes (nvhost-*, nvmap, nvgpu/*) change names and majors between L4T
 * releases, and ProtectClock= would close the device list around them. tegrastats and the sysfs nodes
 * the governor reads stay readable: ProtectKernelTunables= makes /sys read-only, not hidden.
 */
function deviceLines(device: Profile["device"]): string[] {
  if (device.kind === "jetson-nano" || device.kind === "jetson-orin") return ["PrivateDevices=no"];
  if (device.kind === "gpu-server" || device.accelerator === "cuda") {
    return ["PrivateDevices=no", "DevicePolicy=closed", "DeviceAllow=char-nvidia* rw", "ProtectClock=yes"];
  }
  return ["PrivateDevices=yes", "ProtectClock=yes"];
}

function isUnder(path: string, top: string): boolean {
  return path === top || path.startsWith(`${top}/`);
}
