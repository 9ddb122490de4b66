import { rmSync } from "node:fs";
import { join } from "node:path";
import { createApp } from "./api/app.ts";
import { DaemonBackend } from "./api/daemon-backend.ts";
import { cannotListen } from "./api/listen-check.ts";
import type { ProfileOverrides } from "./config/load-profile.ts";
import { restartOnlyChanges } from "./config/restart-only-settings.ts";
import type { Environment } from "./environment.ts";
import { EdgetrainError, messageOf } from "./errors.ts";
import { EventBus } from "./events/bus.ts";
import { isDiskFull } from "./files/disk-full.ts";
import { type DiskSpace, diskFullError } from "./files/disk-space.ts";
import { homeLostError } from "./files/home-watch.ts";
import { writeAtomically } from "./files/write-atomically.ts";
import type { FleetAgent } from "./fleet/agent/agent.ts";
import type { HeldLock } from "./locks/lockfile.ts";
import type { LogConsole, LogLine, LogSink } from "./log/logger.ts";
import type { Logger } from "./plugin-api.ts";
import { openHome, watchHome } from "./services/daemon-home.ts";
import { Disposals } from "./services/disposals.ts";
import { runningProfile } from "./services/running-profile.ts";
import { type RunningProfile, Services } from "./services/services.ts";
import type { StateDatabase } from "./state/database.ts";
import { ServiceNotifier } from "./systemd/notify.ts";
import { VERSION } from "./version.ts";

export interface DaemonOptions {
  profile: string;
  environment: Environment;
  overrides?: ProfileOverrides;
  console?: LogConsole;
  /** Nobody will answer questions (systemd, --headless): conflicts use on_unattended instead of ask. */
  headless?: boolean;
}

/** Where a running daemon can be reached; written to `<home>/daemon.json` for the CLI and TUI. */
export interface DaemonAddress {
  pid: number;
  url: string;
  host: string;
  port: number;
}

type Server = ReturnType<ReturnType<typeof createApp>["listen"]>;

const SHUTDOWN_LIMIT_MS = 5000;

export class Daemon {
  private server?: Server;
  private stopping?: Promise<void>;
  private stopReason = "";
  readonly bus = new EventBus();
  /** What was started, disposed in reverse order at stop. */
  private readonly started: Disposals;
  private services!: Services;
  /** What the API shows and does; it also keeps the bearer token. */
  private backend!: DaemonBackend;
  /** Tells systemd when the daemon is ready, reloading and stopping, and that its event loop still turns. */
  private readonly notifier: ServiceNotifier;
  /** Set once the home is found deleted or unwritable: nothing more is written there. */
  private homeLost?: EdgetrainError;
  /** What a lost home ends in: a stop here, and the process's exit once handleSignals() owns it. */
  private whenHomeLost: (error: EdgetrainError) => void = (error) => void this.stop(error.message);
  /** The device's side of a fleet; only with a `fleet:` section. */
  private fleet?: FleetAgent;

  private constructor(
    private readonly options: DaemonOptions,
    /** The home the lock covers: its address and token files are written there. */
    private readonly home: string,
    lock: HeldLock,
    private readonly logs: LogSink,
    readonly logger: Logger,
    private readonly state: StateDatabase,
    /** Whether the home's disk is full; `demo --once` gives up when it fills. */
    readonly disk: DiskSpace,
  ) {
    this.started = new Disposals(logger);
    this.notifier = new ServiceNotifier(options.environment, logger);
    this.started.add("home lock", () => lock.release());
    this.started.add("disk space watch", () => disk.dispose());
    this.started.add("state", () => {
      // A lost home's database is left as it is: closing it would checkpoint into a deleted file.
      if (this.homeLost) return;
      state.recordEvent("daemon.stopped", { reason: this.stopReason });
      state.close();
    });
    const watch = watchHome(home, { lock, state, disk }, (reason) => this.loseHome(reason));
    this.started.add("home watch", () => watch.dispose());
  }

  private get resolved(): RunningProfile {
    return this.services.resolved;
  }

  /** Loads and checks everything first: a broken profile or plugin refuses to start rather than half-running. */
  static async start(options: DaemonOptions): Promise<Daemon> {
    const resolved = await runningProfile(options);
    const { profile, paths } = resolved;
    // Lines reach the event bus once the daemon (and its bus) exist: the TUI follows the log through /v1/events.
    let forward: ((line: LogLine) => void) | undefined;
    const { lock, logs, logger, disk, state } = openHome(profile, paths, options.console, (line) => forward?.(line));
    const startedAt = Date.now();
    const daemon = new Daemon(options, paths.home, lock, logs, logger, state, disk);
    forward = (line) => line.level !== "debug" && daemon.bus.emit("log", line);
    try {
      const parts = {
        resolved,
        environment: options.environment,
        state,
        logger,
        bus: daemon.bus,
        disk,
        governed: true,
        attended: !options.headless,
      };
      daemon.services = await Services.build(parts, daemon.started);
      daemon.backend = new DaemonBackend({
        services: daemon.services,
        state,
        disk,
        userHome: options.environment.userHome,
        startedAt,
        logger,
      });
      await daemon.services.start();
      daemon.started.add("token file", () => rmSync(join(daemon.home, "api.token"), { force: true }));
      daemon.started.add("address file", () => rmSync(join(daemon.home, "daemon.json"), { force: true }));
      daemon.started.add("api", () => daemon.server?.stop(true));
      daemon.listen();
      daemon.started.add("fleet agent", () => daemon.fleet?.stop());
      await daemon.startFleet(true);
    } catch (error) {
      await daemon.stop();
      throw isDiskFull(error) ? diskFullError(paths.home) : error;
    }
    state.recordEvent("daemon.started", { pid: process.pid, version: VERSION, profile: resolved.loaded.name });
    logger.info(`edgetrain ${VERSION} running`, {
      profile: resolved.loaded.name,
      home: paths.home,
      url: daemon.address().url,
    });
    daemon.notifier.ready(`serving on ${daemon.address().url}`);
    return daemon;
  }

  /** The bearer token, for a TUI started in this process. */
  token(): string {
    return this.backend.token();
  }

  address(): DaemonAddress {
    const host = this.resolved.profile.api.host;
    const port = this.server?.server?.port ?? this.resolved.profile.api.port;
    const urlHost = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
    return { pid: process.pid, url: `http://${urlHost}:${port}`, host, port };
  }

  /** Re-reads the profile; a profile with errors is rejected and the running one kept. Returns whether it applied. */
  async reload(): Promise<boolean> {
    this.logger.info("reloading profile", { profile: this.options.profile });
    let next: RunningProfile;
    try {
      next = await runningProfile(this.options);
    } catch (error) {
      const problems =
        error instanceof EdgetrainError
          ? ((error.details.problems as string[] | undefined) ?? [error.message])
          : [messageOf(error)];
      for (const problem of problems) this.logger.error(`reload rejected: ${problem}`);
      this.logger.warn("kept the running profile");
      this.state.recordEvent("profile.reload_rejected", { problems });
      return false;
    }
    const before = this.resolved.profile.api;
    const restartOnly = restartOnlyChanges(this.resolved.profile, next.profile);
    const fleetBefore = JSON.stringify(this.resolved.profile.fleet);
    const running = this.resolved;
    this.notifier.reloading();
    try {
      try {
        await this.services.reload(next);
      } catch (error) {
        // A plugin that fails only when set up (a trigger's setup() throwing): the profile that ran goes on.
        const problems = [messageOf(error)];
        this.logger.error(`reload rejected: ${problems[0]}`);
        try {
          await this.services.reload(running);
          this.logger.warn("kept the running profile");
        } catch (again) {
          problems.push(`the running profile could not be set up again: ${messageOf(again)}`);
          this.logger.error(`${problems[1]}; the daemon serves, but its triggers wait for a reload or a restart`);
        }
        this.state.recordEvent("profile.reload_rejected", { problems });
        return false;
      }
      this.logs.setLevel(next.profile.logging.level);
      if (fleetBefore !== JSON.stringify(next.profile.fleet)) {
        await this.fleet?.stop();
        this.fleet = undefined;
        await this.startFleet(false);
      }
      if (before.host !== next.profile.api.host || before.port !== next.profile.api.port) {
        this.server?.stop();
        this.listen();
      } else if (before.token !== next.profile.api.token) this.writeToken();
    } finally {
      this.notifier.ready(`serving on ${this.address().url}`);
    }
    this.state.recordEvent("profile.reloaded", { profile: next.loaded.name, restart_needed: restartOnly });
    this.logger.info("profile reloaded", { profile: next.loaded.name, url: this.address().url });
    if (restartOnly.length > 0)
      this.logger.warn(`profile reloaded, but ${restartOnly.join(", ")} change only when the daemon restarts`, {
        profile: next.loaded.name,
        restart_needed: restartOnly,
      });
    return true;
  }

  /** Disposes what was started in reverse order. Never throws; safe to call twice. */
  stop(reason = "stop requested"): Promise<void> {
    this.stopping ??= (async () => {
      this.logger.info("stopping", { reason });
      this.notifier.stopping();
      this.stopReason = reason;
      await this.started.dispose();
      this.logger.info("stopped");
      this.logs.close();
    })();
    return this.stopping;
  }

  /**
   * SIGTERM/SIGINT stop within SHUTDOWN_LIMIT_MS. SIGHUP reloads the profile, except for a daemon started on
   * a terminal: there it is the terminal closing, and a daemon that lived on would hold its port and locks
   * with nobody left to press Ctrl-C.
   */
  handleSignals(options: { onTerminal: boolean }, exit: (code: number) => void = (code) => process.exit(code)): void {
    const shutdown = (reason: string, code = 0) => {
      const force = setTimeout(() => exit(code || 1), SHUTDOWN_LIMIT_MS);
      force.unref?.();
      void this.stop(reason).then(() => exit(code));
    };
    this.whenHomeLost = (error) => shutdown("the home was lost", error.exitCode);
    process.once("SIGTERM", () => shutdown("signal SIGTERM"));
    process.once("SIGINT", () => shutdown("signal SIGINT"));
    if (options.onTerminal) process.once("SIGHUP", () => shutdown("signal SIGHUP (the terminal closed)"));
    else
      process.on("SIGHUP", () => {
        this.reload().catch((error: unknown) => this.logger.error("reload failed", { error: messageOf(error) }));
      });
  }

  /** Said once; the database refuses writes before anything else runs, then the daemon stops. */
  private loseHome(reason: string): void {
    if (this.homeLost || this.stopping) return;
    const error = (this.homeLost = homeLostError(this.home, reason));
    this.state.refuseWrites();
    this.logger.error(error.message, { home: this.home, hint: error.hint });
    this.whenHomeLost(error);
  }

  /** Joins the fleet of the profile's `fleet:` section; one that cannot work refuses a start, or is logged. */
  private async startFleet(atStart: boolean): Promise<void> {
    const { fleet } = this.resolved.profile;
    if (!fleet) return;
    try {
      // Loaded only for a device in a fleet: a daemon standing alone does not carry MQTT and its inventory.
      const { FleetAgent } = await import("./fleet/agent/agent.ts");
      const { services, backend: commands, state, options } = this;
      const logger = this.logger.child({ part: "fleet" });
      this.fleet = FleetAgent.start({ fleet, services, commands, state, environment: options.environment, logger });
    } catch (error) {
      if (atStart) throw error;
      this.logger.error(`the fleet agent did not start: ${messageOf(error)}`);
    }
  }

  /** Chooses the token for requests from now on (api.token, or one made here) and writes it for local clients. */
  private writeToken(): void {
    // Local clients (the CLI, the TUI) read the token from the home; mode 0600 keeps other users out.
    writeAtomically(join(this.home, "api.token"), `${this.backend.chooseToken()}\n`, 0o600);
  }

  private listen(): void {
    const { host, port } = this.resolved.profile.api;
    this.writeToken();
    try {
      this.server = createApp(this.backend, this.logger.child({ part: "api" })).listen({ hostname: host, port });
    } catch (error) {
      throw cannotListen(host, port, error);
    }
    writeAtomically(join(this.home, "daemon.json"), `${JSON.stringify(this.address())}\n`);
  }
}
