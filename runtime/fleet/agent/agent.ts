import { durationMs } from "../../config/duration.ts";
import type { FleetConfig } from "../../config/schema.ts";
import type { Environment } from "../../environment.ts";
import { EdgetrainError, messageOf } from "../../errors.ts";
import { glibcVersion } from "../../hardware/glibc.ts";
import { probeOnnxRuntime } from "../../inference/probe.ts";
import type { Logger } from "../../plugin-api.ts";
import type { Services } from "../../services/services.ts";
import type { StateDatabase } from "../../state/database.ts";
import { firstSightOfCommand, recordAnnouncement, verifiedAwaitingActivation } from "../../state/fleet.ts";
import { runsInProgress } from "../../state/runs.ts";
import { VERSION } from "../../version.ts";
import type { DeviceInfo, DeviceReport } from "../protocol.ts";
import { Commands, type CommandTarget } from "./commands.ts";
import { fleetVersionOf } from "./fleet-version.ts";
import { HeartbeatBuilder } from "./heartbeat.ts";
import { HttpTransport } from "./http-transport.ts";
import { type DeviceIdentity, deviceIdentity } from "./identity.ts";
import { hardwareInventory } from "./inventory.ts";
import { LiveRuns } from "./live-runs.ts";
import { ModelUpdates } from "./model-update.ts";
import { MqttTransport } from "./mqtt-transport.ts";
import { Outbox } from "./outbox.ts";
import { scoreReport } from "./score-report.ts";
import type { FleetTransport } from "./transport.ts";
import { trustedKeys } from "./trust.ts";

export interface FleetAgentParts {
  fleet: FleetConfig;
  services: Services;
  /** The API's own calls, which hub commands go through. */
  commands: CommandTarget;
  state: StateDatabase;
  environment: Environment;
  logger: Logger;
}

/** Registration is published again this long after the last model change, so a burst sends one. */
const REREGISTER_DELAY_MS = 1000;

/**
 * The device's side of the fleet, inside the daemon: registers at every connect, sends heartbeats, applies
 * signed model updates, runs signed commands, forwards live runs, and keeps reports in an outbox until the
 * hub has them. The daemon trains and serves the same whether or not the hub can be reached.
 */
export class FleetAgent {
  readonly identity: DeviceIdentity;
  private readonly transport: FleetTransport;
  private readonly outbox: Outbox;
  private readonly updates: ModelUpdates;
  private readonly commands: Commands;
  private readonly heartbeats: HeartbeatBuilder;
  private readonly abort = new AbortController();
  private readonly stops: Array<() => void> = [];
  private inventory?: Promise<Record<string, unknown>>;
  /** Announcements and commands being handled: a stop waits for them before the state database closes. */
  private readonly inFlight = new Set<Promise<void>>();
  private reregister?: ReturnType<typeof setTimeout>;

  static start(parts: FleetAgentParts): FleetAgent {
    const agent = new FleetAgent(parts);
    agent.begin();
    return agent;
  }

  private constructor(private readonly parts: FleetAgentParts) {
    const { fleet, environment, services, logger, state } = parts;
    if (fleet.transport === "mqtt" && !fleet.broker)
      throw misconfigured("fleet.transport mqtt needs fleet.broker (mqtt://host:1883)");
    if (fleet.transport === "http" && !fleet.url)
      throw misconfigured("fleet.transport http needs fleet.url (the hub's address)");
    this.identity = deviceIdentity(fleet, environment.hostRoot);
    const trusted = trustedKeys(fleet.trust);
    if (trusted.length === 0)
      logger.warn("fleet.trust lists no hub key: model updates and commands from the hub will be refused");
    const { device } = this.identity;
    const home = services.resolved.paths.home;
    this.transport =
      fleet.transport === "http"
        ? new HttpTransport({ fleet, device, logger })
        : new MqttTransport({
            fleet,
            device,
            home,
            logger,
          });
    this.outbox = new Outbox(state.db, this.transport, logger);
    const { store, activator } = services.serving;
    this.updates = new ModelUpdates({
      device,
      trusted,
      db: state.db,
      store,
      activator,
      logger,
      signal: this.abort.signal,
      current: () => ({
        profile: services.resolved.profile,
        paths: services.resolved.paths,
        deployer: services.deployer,
        autoUpdate: fleet.auto_update,
      }),
      downloadRetryMs: durationMs(fleet.download_retry),
      report: (outcome) => this.report({ kind: "ota", ...outcome }),
    });
    this.commands = new Commands({
      device,
      trusted,
      logger,
      target: () => parts.commands,
      report: (result) => this.report({ kind: "command", ...result }),
      firstSight: (id) => firstSightOfCommand(state.db, id),
    });
    this.heartbeats = new HeartbeatBuilder({
      device,
      governor: services.governor,
      runs: () => runsInProgress(state.db),
      models: () => store.list(),
      fleetVersion: (model, version) => fleetVersionOf(state.db, store, model, version),
      cacheHitRatio: () => {
        const stats = services.serving.service.cacheStats();
        return stats.hits + stats.misses > 0 ? stats.hit_rate : undefined;
      },
    });
  }

  private begin(): void {
    const { services, fleet, logger } = this.parts;
    this.stops.push(
      services.onPrediction((model, code, _seconds, outputs) => {
        if (code === "ok" && outputs) this.heartbeats.countPrediction(model, outputs);
      }),
    );
    const live = new LiveRuns({
      device: this.identity.device,
      send: (update) => this.transport.runUpdate(update),
      logLinesPerSecond: () => fleet.log_lines_per_s,
      finished: (run) => this.report({ kind: "run", ...run }),
    });
    this.stops.push(services.bus.subscribe(live.listener));
    this.stops.push(
      services.bus.subscribe((event) => {
        if (event.type !== "score.summary") return;
        const { run, job, model, version } = event.data;
        const report = scoreReport(
          event.data,
          fleetVersionOf(this.parts.state.db, services.serving.store, model, version),
        );
        if (!("refused" in report)) return this.report(report);
        logger.warn("a score summary is not sent to the fleet hub", { run, job, model, why: report.refused });
      }),
    );
    this.stops.push(
      services.bus.subscribe((event) => {
        if (!event.type.startsWith("model.") || event.type === "model.loaded" || event.type === "model.unloaded")
          return;
        if (event.type === "model.activated") this.confirmManualActivation(event.data.model, event.data.version);
        clearTimeout(this.reregister);
        this.reregister = setTimeout(() => void this.register(), REREGISTER_DELAY_MS);
      }),
    );
    const beat = setInterval(() => void this.heartbeat(), durationMs(fleet.heartbeat_interval));
    this.stops.push(() => clearInterval(beat));
    logger.info("fleet agent started", {
      device: this.identity.device,
      transport: fleet.transport,
      groups: fleet.groups,
    });
    this.transport.start({
      connected: () => void this.register().then(() => this.outbox.flush()),
      announcement: (raw) => this.track(this.updates.handle(raw), "could not apply a model announcement"),
      command: (raw) => this.track(this.commands.handle(raw), "could not run a fleet command"),
    });
  }

  /** Disposes in reverse: no new work, downloads stopped, `offline` said, the connection closed. */
  async stop(): Promise<void> {
    clearTimeout(this.reregister);
    for (const stop of this.stops.splice(0).reverse()) stop();
    this.abort.abort(new Error("edgetrain is stopping"));
    await this.transport.close();
    await Promise.allSettled([...this.inFlight]);
    await this.outbox.close();
  }

  private track(work: Promise<void>, failure: string): void {
    const tracked = work
      .catch((error) => this.parts.logger.warn(failure, { error: messageOf(error) }))
      .finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  async info(): Promise<DeviceInfo> {
    const { services, environment, logger } = this.parts;
    const { profile, paths, loaded } = services.resolved;
    this.inventory ??= hardwareInventory(
      {
        root: environment.hostRoot,
        home: paths.home,
        cacheDir: paths.cache,
        inferenceBackend: profile.inference.backend,
        glibc: glibcVersion(),
        which: (command) => Bun.which(command),
        probeOnnxRuntime,
      },
      logger,
    );
    const { store } = services.serving;
    const { device, name, location, groups } = this.identity;
    return {
      device,
      name,
      ...(location !== undefined && { location }),
      groups,
      edgetrain_version: VERSION,
      profile: loaded.name,
      hardware: await this.inventory,
      models: store.list().map((m) => ({
        model: m.model,
        ...(m.active !== undefined && {
          active: m.active,
          fleet_version: fleetVersionOf(this.parts.state.db, store, m.model, m.active),
        }),
        versions: store.versions(m.model).map((version) => version.version),
        ...(m.metrics && { metrics: m.metrics }),
      })),
      at: new Date().toISOString(),
    };
  }

  private async register(): Promise<void> {
    if (!this.transport.isConnected()) return;
    try {
      await this.transport.register(await this.info());
    } catch (error) {
      this.parts.logger.debug("could not register with the fleet hub", { error: messageOf(error) });
    }
  }

  private async heartbeat(): Promise<void> {
    // Over HTTP the heartbeat is also how the device finds the hub again.
    if (!this.transport.isConnected() && !(this.transport instanceof HttpTransport)) return;
    await this.transport
      .heartbeat(this.heartbeats.next())
      .catch((error) => this.parts.logger.debug("heartbeat not sent", { error: messageOf(error) }));
  }

  private report(report: DistributiveOmit<DeviceReport, "id" | "device" | "at">): void {
    this.outbox.add({
      ...report,
      id: crypto.randomUUID(),
      device: this.identity.device,
      at: new Date().toISOString(),
    } as DeviceReport);
  }

  /** A fleet version verified with auto_update off, activated by a person: the hub hears it was activated. */
  private confirmManualActivation(model: string, version: number): void {
    const waiting = verifiedAwaitingActivation(this.parts.state.db, model, version);
    if (!waiting) return;
    recordAnnouncement(this.parts.state.db, {
      ...waiting,
      outcome: "activated",
      local_version: version,
      reason: undefined,
    });
    this.report({
      kind: "ota",
      rollout: waiting.rollout,
      model,
      version: waiting.version,
      local_version: version,
      outcome: "activated",
      reason: "activated on the device",
    });
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function misconfigured(message: string): EdgetrainError {
  return new EdgetrainError("profile_invalid", message, { hint: "see docs/fleet.md" });
}
