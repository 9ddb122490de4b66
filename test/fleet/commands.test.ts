import { beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Daemon } from "../../runtime/daemon.ts";
import { writeAthletes } from "../../runtime/demo/athletes.ts";
import type { DeviceCommand } from "../../runtime/fleet/protocol.ts";
import { generateHubKey } from "../../runtime/fleet/signing.ts";
import { tempDir } from "../helpers.ts";
import { ATHLETES, trainedModels } from "../serving/fixture.ts";
import {
  announcementOf,
  DEVICE_JOBS,
  FLEET_MODEL,
  fileFacts,
  fileServer,
  fleetDaemon,
  hubDouble,
} from "./hub-double.ts";
import { startMosquitto } from "./mosquitto.ts";

const MODEL = FLEET_MODEL;
const JOBS = DEVICE_JOBS;

let models: Awaited<ReturnType<typeof trainedModels>>;
const trainDir = tempDir("edgetrain-fleet-models-");
beforeAll(async () => {
  models = await trainedModels(trainDir.path);
}, 120_000);

const activeVersion = async (daemon: Daemon) =>
  ((await (await fetch(`${daemon.address().url}/v1/models/${MODEL}`)).json()) as { active?: number }).active;

function command(
  device: string,
  name: DeviceCommand["command"],
  args: Record<string, unknown>,
  id: string,
  expiresInMs = 60_000,
): Omit<DeviceCommand, "signature"> {
  return {
    type: "command",
    id,
    device,
    command: name,
    args,
    issued_at: new Date().toISOString(),
    expires_at: new Date(Date.now() + expiresInMs).toISOString(),
  };
}

describe("device agent: commands from the hub", () => {
  test("signed commands run; unsigned, forged, expired and malformed ones are refused and never run", async () => {
    await using broker = await startMosquitto();
    await using dir = tempDir();
    const home = join(dir.path, "home");
    writeAthletes(join(home, "data/athletes"), ATHLETES);
    const good = fileFacts(models.good.artifact);
    const newer = fileFacts(models.newer.artifact);
    const files = fileServer({ "/good.onnx": good.bytes, "/newer.onnx": newer.bytes });
    const hub = await hubDouble(broker.url, undefined, { persistentAs: "hub-commands" });
    const fleet = { device_id: "cmd-1", broker: broker.url, trust: [hub.key.publicKey] };
    let daemon = await fleetDaemon(home, fleet, JOBS);
    const meta = {
      feature_names: models.good.metadata!.feature_names as string[],
      classes: models.good.metadata!.classes as string[],
    };
    const result = (id: string) => hub.reports("cmd-1").find((r) => r.kind === "command" && r.command_id === id);
    const answered = (id: string) => hub.waitFor(() => result(id) !== undefined);
    try {
      await hub.waitFor(() => hub.of("status", "cmd-1").at(-1)?.body?.state === "online");
      await hub.announce(announcementOf("cmd-1", MODEL, 1, good, files.url("/good.onnx"), meta));
      await hub.waitFor(() => hub.reports("cmd-1").some((r) => r.version === 1 && r.outcome === "activated"));
      await hub.announce(announcementOf("cmd-1", MODEL, 2, newer, files.url("/newer.onnx"), meta));
      await hub.waitFor(() => hub.reports("cmd-1").some((r) => r.version === 2 && r.outcome === "activated"));

      await hub.command(command("cmd-1", "rollback", { model: MODEL }, "unsigned-1"), "unsigned");
      await answered("unsigned-1");
      expect(result("unsigned-1")).toMatchObject({
        ok: false,
        command: "rollback",
        error: { code: "refused", message: "refused: unsigned" },
      });
      await hub.command(command("cmd-1", "rollback", { model: MODEL }, "forged-1"), generateHubKey().keys);
      await answered("forged-1");
      expect(result("forged-1")).toMatchObject({
        ok: false,
        error: { code: "refused", message: expect.stringContaining("signature") },
      });
      await hub.command(command("cmd-1", "rollback", { model: MODEL }, "expired-1", -1000));
      await answered("expired-1");
      expect(result("expired-1")).toMatchObject({ ok: false, error: { message: expect.stringContaining("expired") } });
      const { expires_at: _, ...noExpiry } = command("cmd-1", "rollback", { model: MODEL }, "malformed-1");
      await hub.command(noExpiry as Omit<DeviceCommand, "signature">);
      await answered("malformed-1");
      expect(result("malformed-1")).toMatchObject({
        ok: false,
        error: { message: expect.stringContaining("malformed") },
      });
      expect(await activeVersion(daemon)).toBe(2);

      await hub.command(command("cmd-1", "rollback", { model: MODEL }, "rollback-1"));
      await answered("rollback-1");
      expect(result("rollback-1")).toMatchObject({
        ok: true,
        command: "rollback",
        result: { model: MODEL, version: 1 },
      });
      expect(await activeVersion(daemon)).toBe(1);
      await hub.command(command("cmd-1", "activate", { model: MODEL, version: 9 }, "activate-9"));
      await answered("activate-9");
      expect(result("activate-9")).toMatchObject({ ok: false, error: { code: "not_found" } });
      await hub.command(command("cmd-1", "logs", { lines: 3 }, "logs-1"));
      await answered("logs-1");
      const lines = (result("logs-1")!.result as { lines: Array<{ msg: string }> }).lines;
      expect(lines.length).toBe(3);

      // A command sent while the device is away waits in its persistent session at the broker.
      await daemon.stop();
      await hub.command(command("cmd-1", "activate", { model: MODEL, version: 2 }, "activate-2"));
      await hub.command(command("cmd-1", "train", { job: "activity", key: "player_1" }, "train-1"));
      daemon = await fleetDaemon(home, fleet, JOBS);
      await answered("activate-2");
      expect(result("activate-2")).toMatchObject({ ok: true, result: { model: MODEL, version: 2 } });
      expect(await activeVersion(daemon)).toBe(2);
      await answered("train-1");
      expect(result("train-1")).toMatchObject({ ok: true, result: { queued: { job: "activity", key: "player_1" } } });
      // The run it started is followed live on the runs topic, and reported when it ends.
      await hub.waitFor(() => hub.reports("cmd-1").some((r) => r.kind === "run"), 60_000);
      const run = hub.reports("cmd-1").find((r) => r.kind === "run")!;
      expect(run).toMatchObject({ job: "activity", key: "player_1", state: "succeeded" });
      // The broker delivering a command again (its acknowledgement was lost) does not run it twice, even
      // after a restart of the daemon.
      await hub.command(command("cmd-1", "rollback", { model: MODEL }, "rollback-1"));
      await hub.command(command("cmd-1", "logs", { lines: 1 }, "logs-2"));
      await answered("logs-2");
      expect(hub.reports("cmd-1").filter((r) => r.command_id === "rollback-1").length).toBe(1);
      const updates = hub.of("runs", "cmd-1").map((h) => h.body!);
      expect(updates.filter((u) => u.run === run.run).map((u) => u.event)).toContain("state");
    } finally {
      await daemon.stop();
      await hub.close();
      files.stop();
    }
  }, 120_000);
});
