import { homedir } from "node:os";
import { join } from "node:path";

/**
 * The one module that reads process.env. Everything else receives what it needs from here,
 * so the precedence (defaults → profile → EDGETRAIN_* → flags) stays in one place.
 */
export interface Environment {
  /** Overrides `paths.home`. */
  home?: string;
  /** Overrides `paths.logs`: a system service's LogsDirectory= (/var/log/edgetrain). */
  logs?: string;
  /** Name or file of the profile to load when no --profile is given. */
  profile?: string;
  /** Forces the ONNX Runtime backend: `native` or `wasm` (testing the old-glibc fallback). */
  ortBackend?: string;
  /** Root prefix for /proc, /sys and /etc reads: lets tests feed recorded Jetson trees. */
  hostRoot: string;
  /** The user's home folder; edgetrain's default home lives under it. */
  userHome: string;
  noColor: boolean;
  /** PATH: where the GPU readers (nvidia-smi, tegrastats) are looked up; tests put stand-ins first. */
  searchPath?: string;
  /**
   * Test hook: the process kills itself (SIGKILL) at this named point between a run's end and its model's activation.
   */
  crashAt?: string;
  /** systemd's notify socket (Type=notify): the daemon says READY=1 there once it serves. */
  notifySocket?: string;
  /** systemd's watchdog: WATCHDOG=1 is due this often, from the process WATCHDOG_PID names (any if none). */
  watchdog?: { usec: number; pid?: number };
  /**
   * JOURNAL_STREAM: the device and inode of the stream systemd connected stdout and stderr to (journald's).
   * Inherited by children whose stderr goes elsewhere, so it counts only where stderr is that stream.
   */
  journalStream?: { device: bigint; inode: bigint };
  /** All variables, for `${VAR}` substitution in profiles. Values are secrets: never log them. */
  variables: Readonly<Record<string, string | undefined>>;
}

export function readEnvironment(env: Record<string, string | undefined> = process.env): Environment {
  return {
    home: env.EDGETRAIN_HOME || undefined,
    logs: env.EDGETRAIN_LOGS || undefined,
    profile: env.EDGETRAIN_PROFILE || undefined,
    ortBackend: env.EDGETRAIN_ORT_BACKEND || undefined,
    hostRoot: env.EDGETRAIN_HOST_ROOT || "/",
    userHome: env.HOME || homedir(),
    noColor: Boolean(env.NO_COLOR),
    searchPath: env.PATH,
    crashAt: env.EDGETRAIN_CRASH_AT || undefined,
    notifySocket: env.NOTIFY_SOCKET || undefined,
    watchdog: watchdogOf(env),
    journalStream: journalStreamOf(env.JOURNAL_STREAM),
    variables: { ...env },
  };
}

function watchdogOf(env: Record<string, string | undefined>): Environment["watchdog"] {
  const usec = Number(env.WATCHDOG_USEC);
  return usec > 0 ? { usec, pid: Number(env.WATCHDOG_PID) || undefined } : undefined;
}

function journalStreamOf(value: string | undefined): Environment["journalStream"] {
  const match = /^(\d+):(\d+)$/.exec(value ?? "");
  return match ? { device: BigInt(match[1]!), inode: BigInt(match[2]!) } : undefined;
}

export function defaultHome(environment: Environment): string {
  return environment.home ?? join(environment.userHome, ".edgetrain");
}
