import { existsSync, mkdirSync, rmSync } from "node:fs";
import { userInfo } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { loadProfile, namesProfileFile } from "../../config/load-profile.ts";
import { resolvePaths } from "../../config/paths.ts";
import { formatProblem } from "../../config/problems-text.ts";
import { EdgetrainError } from "../../errors.ts";
import { writeAtomically } from "../../files/write-atomically.ts";
import { loadPlugins } from "../../plugins/host.ts";
import { profileWrites } from "../../systemd/profile-writes.ts";
import { checkServiceUser } from "../../systemd/service-user.ts";
import {
  SERVICE_HOME,
  SERVICE_LOGS,
  UNIT_NAME,
  type UnitRequest,
  unitText,
  writablePaths,
} from "../../systemd/unit-file.ts";
import { type Command, type ParsedArgs, stringFlag } from "../command.ts";
import { homeAndProfile, homeOptions } from "../home.ts";
import { writeAnswer } from "../json-answer.ts";

/** The base profile's home; a system service given it runs in SERVICE_HOME instead. */
const DEFAULT_HOME = "~/.edgetrain";

/** The command systemd starts: the binary itself, or bun with the entry script when run from source. */
function serviceCommandLine(): string[] {
  return Bun.isStandaloneExecutable ? [process.execPath] : [process.execPath, Bun.main];
}

export const serviceCommand: Command = {
  name: "service",
  summary: "install or remove the systemd unit that runs edgetrain unattended",
  description:
    `install writes ${UNIT_NAME}: Type=notify with a watchdog, Restart=on-failure, CPUQuota, MemoryHigh and ` +
    `MemoryMax from the profile's governor, a sandbox fitted to the profile's hardware, journald logging, SIGHUP ` +
    `reload, a non-root user; then prints the commands that enable it. --dry-run prints the unit and writes nothing. ` +
    `uninstall removes it.\n\n` +
    `A system unit runs as --run-as USER (default: the user who called sudo, else "edgetrain"), a plain user ` +
    `name: root, a uid or an empty name is refused. Given no --home, a system unit keeps its home in ` +
    `${SERVICE_HOME} and its logs in ${SERVICE_LOGS}, which systemd makes for that user.`,
  arguments: [{ name: "action", choices: ["install", "uninstall"], description: "install, or uninstall" }],
  options: {
    user: { type: "boolean", description: "a user unit (~/.config/systemd/user) that needs no root" },
    "run-as": { type: "string", value: "USER", description: "the user a system unit runs as" },
    "dry-run": { type: "boolean", description: "print the unit instead of writing it" },
    "unit-dir": {
      type: "string",
      value: "DIR",
      description: "where the unit goes (default /etc/systemd/system, or the user's with --user)",
    },
    exec: {
      type: "string",
      value: "PATH",
      description: "the program the unit starts (default: this binary); scripts/install.sh gives its installed path",
    },
    ...homeOptions,
  },
  examples: [
    "sudo edgetrain service install --profile jetson-orin --run-as athlete",
    "edgetrain service install --dry-run --profile gpu-server",
    "edgetrain service install --user",
    "edgetrain service uninstall --user",
  ],
  async run(args, io) {
    const [action] = args.positionals;
    const userUnit = Boolean(args.values.user);
    const unitDir =
      stringFlag(args, "unit-dir") ??
      (userUnit ? join(userInfo().homedir, ".config/systemd/user") : "/etc/systemd/system");
    const systemctl = userUnit ? "systemctl --user" : "sudo systemctl";
    const file = join(unitDir, UNIT_NAME);
    const misplaced = misplacedFlags(args, action);
    if (misplaced)
      throw new EdgetrainError("usage", `edgetrain service ${action}: ${misplaced}`, {
        hint: "see edgetrain service --help",
      });
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
    if (action !== "install")
      throw new EdgetrainError(
        "usage",
        `edgetrain service: expected install or uninstall, got ${action ? `"${action}"` : "nothing"}`,
      );
    const user = userUnit ? undefined : systemUnitUser(args, io.environment.variables.SUDO_USER);
    const { profile: chosen, homeFlag } = homeAndProfile(args, io);
    // systemd starts the daemon in /: a profile file goes into the unit by its absolute path.
    const profileRef = namesProfileFile(chosen) ? resolve(chosen) : chosen;
    const loaded = loadProfile({ profile: profileRef, environment: io.environment, overrides: { home: homeFlag } });
    if (!loaded.profile) {
      throw new EdgetrainError("profile_invalid", `profile ${loaded.name} has problems; the service would not start`, {
        details: { problems: loaded.problems.map(formatProblem) },
      });
    }
    // A system service given no home gets systemd's: /var/lib/edgetrain and /var/log/edgetrain, made for its user.
    const { profile } = loaded;
    const homeGiven =
      homeFlag !== undefined || io.environment.home !== undefined || profile.paths.home !== DEFAULT_HOME;
    const serviceHome = !userUnit && !homeGiven;
    const layout = serviceHome ? { ...profile.paths, home: SERVICE_HOME, logs: SERVICE_LOGS } : profile.paths;
    const paths = resolvePaths({ ...profile, paths: layout }, io.environment.userHome);
    const environmentFile = userUnit ? join(userInfo().homedir, ".config/edgetrain/env") : "/etc/edgetrain/env";
    const exec = stringFlag(args, "exec");
    const command = exec ? [exec.includes("/") ? resolve(exec) : exec] : serviceCommandLine();
    // Built-in plugins only: run as root, service install loads no code from the profile's plugins_dir.
    const writes = profileWrites(profile, loaded.raw, await loadPlugins(undefined), paths);
    const profileFiles = loaded.files.filter((name) => isAbsolute(name));
    const request: UnitRequest = {
      profile,
      profileRef,
      profileFiles,
      paths,
      serviceHome,
      command,
      user,
      userUnit,
      environmentFile,
      writes,
    };
    const text = unitText(request);
    if (args.values["dry-run"]) {
      writeAnswer(io, args, { unit: file, user: user ?? null, text }, text);
      return 0;
    }
    mkdirSync(unitDir, { recursive: true });
    writeAtomically(file, text);
    const next = [
      ...foldersToMake(request),
      `${systemctl} daemon-reload`,
      `${systemctl} enable --now edgetrain`,
      `journalctl ${userUnit ? "--user " : ""}-u edgetrain -f`,
    ];
    const useradd =
      user === "edgetrain"
        ? "  sudo useradd --system --no-create-home --shell /usr/sbin/nologin edgetrain   # if that user does not " +
          "exist yet\n"
        : "";
    writeAnswer(
      io,
      args,
      { unit: file, user: user ?? null, next },
      `wrote ${file}\nthen:\n${useradd}${next.map((line) => `  ${line}\n`).join("")}`,
    );
    return 0;
  },
};

/**
 * A writable folder missing when the service starts stays read-only (ReadWritePaths=-… skips it), and
 * ProtectSystem=strict keeps the daemon from making it: it is made first, for the service's user.
 */
function foldersToMake(request: Parameters<typeof writablePaths>[0] & { user?: string }): string[] {
  const missing = writablePaths(request).filter((folder) => !existsSync(folder));
  const word = (path: string) => (/^[\w./-]+$/.test(path) ? path : `'${path.replaceAll("'", "'\\''")}'`);
  return missing.map((folder) =>
    request.user ? `sudo install -d -m 0750 -o ${request.user} ${word(folder)}` : `mkdir -p ${word(folder)}`,
  );
}

/** The user a system unit runs as: --run-as, else the user who called sudo, else this one (edgetrain for root). */
function systemUnitUser(args: ParsedArgs, sudoUser: string | undefined): string {
  const runAs = stringFlag(args, "run-as");
  if (runAs !== undefined) return checkServiceUser(runAs, "--run-as");
  if (sudoUser !== undefined) return checkServiceUser(sudoUser, "the user who called sudo (SUDO_USER)");
  const { uid, username } = userInfo();
  return uid === 0 ? "edgetrain" : checkServiceUser(username, "the user running this command");
}

/** Flags that would be ignored where they are given: the unit a user unit runs as is the user's own. */
function misplacedFlags(args: ParsedArgs, action: string | undefined): string | undefined {
  const given = (name: string) => args.values[name] !== undefined && args.values[name] !== false;
  if (action === "uninstall") {
    const extra = ["profile", "home", "run-as", "dry-run"].find(given);
    return extra && `--${extra} has no effect on uninstall, which removes the unit file`;
  }
  if (args.values.user && given("run-as")) return "--run-as applies to a system unit; a user unit runs as its user";
  return undefined;
}
