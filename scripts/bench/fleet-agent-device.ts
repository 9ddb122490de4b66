/**
 * One simulated device for scripts/bench/fleet.ts, made of the device agent's own parts
 * (runtime/fleet/agent/): its MQTT transport (persistent session, retained offline will, reconnects), its
 * outbox in a real state database, and its model updates (signature, Range download, size and sha256,
 * then a `source: fleet` version in a real model store), with `auto_update: false` so that a device
 * verifies, stores and reports `verified` without serving. What it leaves out is what needs a daemon:
 * the governor's readings (its heartbeat is synthetic), the deploy steps, commands and live runs.
 */
import { join } from "node:path";
import * as v from "valibot";
import { Fleet } from "../../runtime/config/fleet-schema.ts";
import type { Profile } from "../../runtime/config/schema.ts";
import type { Deployer } from "../../runtime/deploy/deployer.ts";
import { ModelUpdates } from "../../runtime/fleet/agent/model-update.ts";
import { MqttTransport } from "../../runtime/fleet/agent/mqtt-transport.ts";
import { Outbox } from "../../runtime/fleet/agent/outbox.ts";
import { trustedKeys } from "../../runtime/fleet/agent/trust.ts";
import type { DeviceInfo, DeviceReport, Heartbeat } from "../../runtime/fleet/protocol.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import type { ResolvedPaths } from "../../runtime/plugin-api.ts";
import type { ModelActivator } from "../../runtime/serving/model-activator.ts";
import { openState, type StateDatabase } from "../../runtime/state/database.ts";
import { ModelStore } from "../../runtime/store/model-store.ts";

/** With auto_update off, the agent neither deploys nor activates: these are never called. */
const unused = new Proxy({}, { get: () => () => Promise.reject(new Error("not in the benchmark")) });

export class BenchDevice {
  readonly transport: MqttTransport;
  readonly state: StateDatabase;
  readonly store: ModelStore;
  private readonly outbox: Outbox;
  private readonly updates: ModelUpdates;
  private readonly abort = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();
  /** OTA outcomes reported, by outcome. */
  readonly outcomes: Record<string, number> = {};

  constructor(
    readonly device: string,
    options: { broker: string; trust: string; dir: string },
  ) {
    const fleet = v.parse(Fleet, {
      device_id: device,
      groups: ["bench"],
      broker: options.broker,
      // The benchmark's broker makes each device's password its id.
      password: device,
      trust: [options.trust],
      auto_update: false,
    });
    const home = join(options.dir, device);
    this.state = openState(join(home, "state"));
    this.store = new ModelStore(join(home, "models"), this.state.db);
    this.transport = new MqttTransport({ fleet, device, home, logger: silentLogger });
    this.outbox = new Outbox(this.state.db, this.transport, silentLogger);
    const paths = { home, models: join(home, "models") } as ResolvedPaths;
    this.updates = new ModelUpdates({
      device,
      trusted: trustedKeys(fleet.trust),
      db: this.state.db,
      store: this.store,
      activator: unused as ModelActivator,
      logger: silentLogger,
      signal: this.abort.signal,
      current: () => ({ profile: { jobs: {} } as Profile, paths, deployer: unused as Deployer, autoUpdate: false }),
      report: (outcome) => {
        this.outcomes[outcome.outcome] = (this.outcomes[outcome.outcome] ?? 0) + 1;
        this.outbox.add({
          kind: "ota",
          ...outcome,
          id: crypto.randomUUID(),
          device,
          at: new Date().toISOString(),
        } as DeviceReport);
      },
    });
  }

  /** Connects as the agent does: registration and the outbox at every connect, announcements applied. */
  start(): void {
    this.transport.start({
      connected: () =>
        void this.transport.register(this.info()).then(
          () => this.outbox.flush(),
          () => {},
        ),
      announcement: (raw) => {
        const work = this.updates.handle(raw).finally(() => this.inFlight.delete(work));
        this.inFlight.add(work);
      },
      command: () => {},
    });
  }

  heartbeat(beat: Heartbeat): Promise<void> {
    return this.transport.heartbeat(beat);
  }

  /** Reports still waiting in the outbox for the broker's acknowledgement. */
  waiting(): number {
    return this.state.db.query<{ n: number }, []>("SELECT count(*) AS n FROM fleet_outbox").get()!.n;
  }

  async stop(): Promise<void> {
    this.abort.abort(new Error("the benchmark is over"));
    await Promise.allSettled([...this.inFlight]);
    await this.outbox.close();
    await this.transport.close();
    this.state.close();
  }

  private info(): DeviceInfo {
    return {
      device: this.device,
      name: this.device,
      groups: ["bench"],
      edgetrain_version: "bench",
      profile: "bench",
      hardware: { cpu: "simulated" },
      models: this.store.list().map((m) => ({ model: m.model, ...(m.active !== undefined && { active: m.active }) })),
      at: new Date().toISOString(),
    };
  }
}
