import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { EdgetrainError, messageOf } from "../../errors.ts";
import { writeAtomically } from "../../files/write-atomically.ts";
import { acquireLock, type HeldLock } from "../../locks/lockfile.ts";
import type { Logger } from "../../plugin-api.ts";
import { Disposals } from "../../services/disposals.ts";
import { BrokerLink, shownUrl } from "./broker-link.ts";
import { Commands } from "./commands.ts";
import { startEmbeddedBroker } from "./embedded-broker.ts";
import { createHubApp } from "./hub-app.ts";
import { type HubKeys, loadHubKey } from "./hub-key.ts";
import { HubMetrics } from "./hub-metrics.ts";
import { Intake } from "./intake.ts";
import { LiveRuns } from "./live-runs.ts";
import { ModelFiles } from "./model-files.ts";
import { openPostgresRegistry } from "./postgres-registry.ts";
import { Registry } from "./registry.ts";
import { Rollouts } from "./rollouts.ts";

export const HUB_PORT = 8471;
export const EMBEDDED_BROKER_PORT = 1883;
// Short enough that a heartbeat is stored within a few tens of milliseconds of its arrival.
const FLUSH_MS = 20;
const TICK_MS = 1000;
/** An HTTP-transport device silent this long is offline: three heartbeats at the default 30 s. */
export const HTTP_SILENCE_MS = 90_000;
const MAINTAIN_MS = 60 * 60_000;

export interface HubOptions {
  home: string;
  /** A broker to use (mqtt:// or mqtts://); without it the hub starts its own on loopback. */
  broker?: string;
  brokerUsername?: string;
  brokerPassword?: string;
  /** The embedded broker's port; 0 picks a free one. */
  brokerPort?: number;
  host?: string;
  port?: number;
  /** The address devices download from, when it is not the one the hub listens on (a proxy, a NAT). */
  publicUrl?: string;
  /** PostgreSQL (`postgres://…`) to hold the registry and its heartbeats (hub.database); default: `<home>/hub.db`. */
  database?: string;
  /** Days of heartbeats kept (hub.keep_days); one a minute past the first day. */
  keepDays?: number;
  /** The API token; by default one made at the first start and kept in `<home>/hub.token`. */
  token?: string;
  logger: Logger;
  now?: () => number;
}

/** Where a running hub is, written to `<home>/hub.json` for `edgetrain hub publish` and `edgetrain fleet`. */
export interface HubAddress {
  url: string;
  broker: string;
  pid: number;
  public_key: string;
}

/**
 * The fleet's hub: the broker link (or an embedded broker), the registry, rollouts, commands and the HTTP
 * API. Started once, stopped once; stopping disposes in reverse order and never throws.
 */
export class Hub {
  readonly registry: Registry;
  readonly files: ModelFiles;
  readonly rollouts: Rollouts;
  readonly commands: Commands;
  readonly intake: Intake;
  readonly metrics: HubMetrics;
  readonly liveRuns: LiveRuns;
  readonly token: string;
  /** The bearer key of devices on the HTTP transport (their fleet.api_key). */
  readonly deviceKey: string;
  /** Where local clients reach the API. */
  url = "";
  /** Where devices download models from: --public-url, else the API's address. */
  publicUrl = "";
  brokerUrl = "";
  private link?: BrokerLink;
  private readonly started: Disposals;

  private constructor(
    readonly options: HubOptions,
    readonly keys: HubKeys,
    readonly now: () => number,
    lock: HeldLock,
    registry: Registry,
  ) {
    const { home, logger } = options;
    this.started = new Disposals(logger);
    // Released last: no other hub opens the home before this one has closed its registry.
    this.started.add("hub lock", () => lock.release());
    this.registry = registry;
    this.started.add("registry", () => this.registry.close());
    this.files = new ModelFiles(home, this.registry);
    const announce = (message: Parameters<BrokerLink["announce"]>[0]) => this.link?.announce(message);
    this.rollouts = new Rollouts(this.registry, this.files, keys, announce, () => this.publicUrl, now, logger);
    this.commands = new Commands(this.registry, keys, (command) => this.link?.command(command), now);
    this.metrics = new HubMetrics(this.registry, this.rollouts, now);
    this.liveRuns = new LiveRuns(now);
    this.intake = new Intake(this.registry, this.rollouts, this.metrics, this.liveRuns, now, logger);
    this.token = options.token ?? keptSecret(join(home, "hub.token"));
    this.deviceKey = keptSecret(join(home, "device.key"));
  }

  static async start(options: HubOptions): Promise<Hub> {
    const { home, logger } = options;
    mkdirSync(home, { recursive: true });
    const lock = acquireLock(join(home, "hub.lock"), `hub ${home}`);
    let hub: Hub;
    let registry: Registry | undefined;
    try {
      const keys = loadHubKey(home);
      registry = options.database ? await openPostgresRegistry(home, options.database, logger) : Registry.inHome(home);
      hub = new Hub(options, keys, options.now ?? Date.now, lock, registry);
    } catch (error) {
      await registry?.close();
      lock.release();
      throw error;
    }
    try {
      await hub.connect();
      hub.listen();
      hub.startTimers();
    } catch (error) {
      await hub.stop();
      throw error;
    }
    writeAtomically(join(home, "hub.json"), `${JSON.stringify(hub.address())}\n`);
    hub.started.add("address file", () => rmSync(join(home, "hub.json"), { force: true }));
    logger.info("hub running", { home, url: hub.url, broker: hub.brokerUrl, public_key: hub.keys.publicKey });
    return hub;
  }

  address(): HubAddress {
    return { url: this.url, broker: this.brokerUrl, pid: process.pid, public_key: this.keys.publicKey };
  }

  /** Stops everything started, in reverse order; the registry is flushed and closed last. */
  async stop(): Promise<void> {
    await this.started.dispose();
  }

  private async connect(): Promise<void> {
    const { options } = this;
    let url = options.broker;
    if (!url) {
      const brokerPort = options.brokerPort ?? EMBEDDED_BROKER_PORT;
      const broker = await startEmbeddedBroker("127.0.0.1", brokerPort).catch((error: unknown) => {
        throw new EdgetrainError(
          "refused",
          `cannot start the embedded MQTT broker on 127.0.0.1:${brokerPort}: ${messageOf(error)}`,
          {
            hint: "another broker may hold the port: use it with --broker mqtt://127.0.0.1:1883",
          },
        );
      });
      this.started.add("embedded broker", () => broker.close());
      url = broker.url;
    }
    this.brokerUrl = shownUrl(url);
    let connected = false;
    this.link = await BrokerLink.connect({
      url,
      home: options.home,
      username: options.brokerUsername,
      password: options.brokerPassword,
      logger: options.logger,
      onMessage: (topic, payload) => this.intake.mqttMessage(topic, payload),
      // A broker without the hub's session (new, or restarted without its store) lost the retained announcements
      // too; and a hub that stopped between recording a wave and publishing it publishes it on its next start.
      onConnect: (sessionPresent) => {
        if (!sessionPresent || !connected) this.rollouts.republish();
        connected = true;
      },
    });
    const link = this.link;
    this.started.add("broker link", () => link.close());
  }

  private listen(): void {
    const host = this.options.host ?? "127.0.0.1";
    const port = this.options.port ?? HUB_PORT;
    let server: ReturnType<ReturnType<typeof createHubApp>["listen"]>;
    try {
      server = createHubApp(this).listen({ hostname: host, port });
    } catch (error) {
      throw new EdgetrainError("refused", `the hub cannot listen on ${host}:${port}: ${messageOf(error)}`, {
        hint: "choose another --port",
      });
    }
    this.started.add("api", () => server.stop(true));
    const bound = server.server?.port ?? port;
    // Listening on every address, the hub is reached locally on loopback, and by devices under its host name.
    const everywhere = host === "0.0.0.0" || host === "::";
    const shown = everywhere ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
    this.url = `http://${shown}:${bound}`;
    this.publicUrl = this.options.publicUrl ?? (everywhere ? `http://${hostname()}:${bound}` : this.url);
    if (everywhere && !this.options.publicUrl) {
      this.options.logger.warn(
        "devices download models from the host name; set --public-url if they cannot resolve it",
        {
          public_url: this.publicUrl,
        },
      );
    }
  }

  /** What time alone changes, once a second: wave timeouts, HTTP-transport devices gone silent. */
  tick(): void {
    this.rollouts.tick();
    for (const device of this.registry.markSilent(this.now(), HTTP_SILENCE_MS)) {
      this.options.logger.info("device offline", { device, why: "no heartbeat over HTTP for 90 s" });
    }
  }

  private startTimers(): void {
    const keepDays = this.options.keepDays ?? 7;
    const timers = [
      setInterval(() => void this.registry.sync(), FLUSH_MS),
      setInterval(() => this.tick(), TICK_MS),
      setInterval(() => this.maintain(keepDays), MAINTAIN_MS),
    ];
    this.maintain(keepDays);
    this.started.add("timers", () => timers.forEach(clearInterval));
  }

  private maintain(keepDays: number): void {
    this.registry.maintain(this.now(), keepDays).then(
      ({ removed }) => {
        if (removed > 0) this.options.logger.info("heartbeats thinned", { removed, keep_days: keepDays });
      },
      (error: unknown) => this.options.logger.error("heartbeats not thinned", { error: messageOf(error) }),
    );
  }
}

/** A secret kept in a file readable by its owner only, made at the first start. */
function keptSecret(file: string): string {
  if (existsSync(file)) {
    const kept = readFileSync(file, "utf8").trim();
    if (kept) return kept;
  }
  const secret = randomBytes(24).toString("base64url");
  writeAtomically(file, `${secret}\n`, 0o600);
  return secret;
}
