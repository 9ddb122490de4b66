import { existsSync, mkdirSync, rmSync } from "node:fs";
import { availableParallelism, userInfo } from "node:os";
import { join } from "node:path";
import { loadProfile } from "../../config/load-profile.ts";
import { resolvePaths } from "../../config/paths.ts";
import type { Profile } from "../../config/schema.ts";
import { EdgetrainError } from "../../errors.ts";
import { writeAtomically } from "../../files/write-atomically.ts";
import { stringFlag, type Command } from "../command.ts";
import { homeAndProfile, homeOptions } from "../home.ts";
import { writeAnswer } from "../json-answer.ts";
import { formatProblem } from "../../config/problems-text.ts";

const UNIT = "edgetrain.service";
/** Room for the daemon, the API and loaded models on top of what one training run may use. */
const DAEMON_HEADROOM_MB = 512;

/** The command systemd starts: the binary itself, or bun with the entry script when run from source. */
function execStart(profile: string, home: string): string {
  const self = Bun.isStandaloneExecutable ? [process.execPath] : [process.execPath, Bun.main];
  return [...self, "run", "--headless", "--profile", profile, "--home", home].map((part) => (/[\s"]/.test(part) ? JSON.stringify(part) : part)).join(" ");
}

export function unitText(options: { profile: Profile; profileRef: string; home: string; user?: string; userUnit: boolean }): string {
  const { profile } = options;
  const cores = profile.governor.workers ?? availableParallelism();
  return `# Written by \`edgetrain service install\`. Secrets (EDGETRAIN_TOKEN, database passwords) go in the
# EnvironmentFile, not here.
[Unit]
Description=edgetrain: keeps ML models fresh on this device (profile ${options.profileRef})
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
ExecStart=${execStart(options.profileRef, options.home)}
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
RestartSec=5
TimeoutStopSec=10
KillSignal=SIGTERM
${options.user ? `User=${options.user}\n` : ""}Environment=EDGETRAIN_HOME=${options.home}
EnvironmentFile=-${options.userUnit ? join(userInfo().homedir, ".config/edgetrain/env") : "/etc/edgetrain/env"}
# From the profile: governor.workers (${cores}) cores and governor.memory_limit_mb (${profile.governor.memory_limit_mb} MB) plus ${DAEMON_HEADROOM_MB} MB for the daemon.
CPUQuota=${cores * 100}%
MemoryMax=${profile.governor.memory_limit_mb + DAEMON_HEADROOM_MB}M
NoNewPrivileges=yes
StandardOutput=journal
StandardError=journal
SyslogIdentifier=edgetrain

[Install]
WantedBy=${options.userUnit ? "default.target" : "multi-user.target"}
`;
}

export const serviceCommand: Command = {
  name: "service",
  summary: "install or remove the systemd unit that runs edgetrain unattended",
  description: `install writes ${UNIT}: Restart=on-failure, CPUQuota and MemoryMax from the profile's governor, journald logging, SIGHUP reload, a non-root user; then prints the commands that enable it. uninstall removes it.

A system unit runs as --run-as USER (default: the user who called sudo, else "edgetrain"); root is refused.`,
  arguments: [{ name: "action", choices: ["install", "uninstall"], description: "install, or uninstall" }],
  options: {
    user: { type: "boolean", description: "a user unit (~/.config/systemd/user) that needs no root" },
    "run-as": { type: "string", value: "USER", description: "the user a system unit runs as" },
    "unit-dir": { type: "string", value: "DIR", description: "where the unit goes (default /etc/systemd/system, or the user's with --user)" },
    ...homeOptions,
  },
  examples: ["sudo edgetrain service install --profile jetson-orin --run-as athlete", "edgetrain service install --user", "edgetrain service uninstall --user"],
  async run(args, io) {
    const [action] = args.positionals;
    const userUnit = Boolean(args.values.user);
    const unitDir = stringFlag(args, "unit-dir") ?? (userUnit ? join(userInfo().homedir, ".config/systemd/user") : "/etc/systemd/system");
    const systemctl = userUnit ? "systemctl --user" : "sudo systemctl";
    const file = join(unitDir, UNIT);
    if (action === "uninstall") {
      if (!existsSync(file)) {
        writeAnswer(io, args, { unit: file, removed: false, next: [] }, `no ${file}: nothing to remove\n`);
        return 0;
      }
      rmSync(file);
      const next = [`${systemctl} disable --now edgetrain`, `${systemctl} daemon-reload`];
      writeAnswer(io, args, { unit: file, removed: true, next }, `removed ${file}\nthen: ${next.join("; ")}\n`);
      return 0;
    }
    if (action !== "install") throw new EdgetrainError("usage", `edgetrain service: expected install or uninstall, got ${action ? `"${action}"` : "nothing"}`);
    const { profile: profileRef, homeFlag } = homeAndProfile(args, io);
    const loaded = loadProfile({ profile: profileRef, environment: io.environment, overrides: { home: homeFlag } });
    if (!loaded.profile) {
      throw new EdgetrainError("profile_invalid", `profile ${loaded.name} has problems; the service would not start`, { details: { problems: loaded.problems.map(formatProblem) } });
    }
    const home = resolvePaths(loaded.profile, io.environment.userHome).home;
    const user = userUnit ? undefined : (stringFlag(args, "run-as") ?? io.environment.variables.SUDO_USER ?? (userInfo().uid === 0 ? "edgetrain" : userInfo().username));
    if (user === "root") throw new EdgetrainError("refused", "the service must not run as root: give --run-as USER");
    mkdirSync(unitDir, { recursive: true });
    writeAtomically(file, unitText({ profile: loaded.profile, profileRef, home, user, userUnit }));
    const next = [`${systemctl} daemon-reload`, `${systemctl} enable --now edgetrain`, `journalctl ${userUnit ? "--user " : ""}-u edgetrain -f`];
    const useradd = user === "edgetrain" ? "  sudo useradd --system --create-home edgetrain   # if that user does not exist yet\n" : "";
    writeAnswer(io, args, { unit: file, user: user ?? null, next }, `wrote ${file}\nthen:\n${useradd}${next.map((line) => `  ${line}\n`).join("")}`);
    return 0;
  },
};
