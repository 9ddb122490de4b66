import { beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Daemon } from "../../runtime/daemon.ts";
import { writeAthletes } from "../../runtime/demo/athletes.ts";
import { topics } from "../../runtime/fleet/protocol.ts";
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

const meta = () => ({
  feature_names: models.good.metadata!.feature_names as string[],
  classes: models.good.metadata!.classes as string[],
});

async function versions(daemon: Daemon): Promise<Array<{ version: number; status: string; source?: string }>> {
  const response = await fetch(`${daemon.address().url}/v1/models/${MODEL}`);
  return response.status === 404
    ? []
    : ((await response.json()) as { versions: Array<{ version: number; status: string; source?: string }> }).versions;
}

describe("device agent: offline, reconnects and broker restarts", () => {
  test("a device offline during a rollout catches up from the retained announcement when it comes back", async () => {
    await using broker = await startMosquitto();
    await using dir = tempDir();
    const home = join(dir.path, "home");
    writeAthletes(join(home, "data/athletes"), ATHLETES);
    const good = fileFacts(models.good.artifact);
    const files = fileServer({ "/good.onnx": good.bytes });
    const hub = await hubDouble(broker.url);
    const fleet = { device_id: "away-1", broker: broker.url, trust: [hub.key.publicKey] };
    let daemon = await fleetDaemon(home, fleet, JOBS);
    try {
      await hub.waitFor(() => hub.of("status", "away-1").at(-1)?.body?.state === "online");
      await daemon.stop();
      await hub.waitFor(() => hub.of("status", "away-1").at(-1)?.body?.state === "offline");
      await hub.announce(announcementOf("away-1", MODEL, 1, good, files.url("/good.onnx"), meta()));
      expect(files.requests).toEqual([]);
      daemon = await fleetDaemon(home, fleet, JOBS);
      await hub.waitFor(() => hub.reports("away-1").some((r) => r.outcome === "activated"));
      expect(await versions(daemon)).toMatchObject([{ version: 1, status: "active", source: "fleet" }]);
    } finally {
      await daemon.stop();
      await hub.close();
      files.stop();
    }
  }, 60_000);

  test("a broker restart mid-rollout loses no report and applies no announcement twice", async () => {
    await using broker = await startMosquitto();
    await using dir = tempDir();
    const home = join(dir.path, "home");
    writeAthletes(join(home, "data/athletes"), ATHLETES);
    const good = fileFacts(models.good.artifact);
    const newer = fileFacts(models.newer.artifact);
    const files = fileServer({ "/good.onnx": good.bytes, "/newer.onnx": newer.bytes });
    const hub = await hubDouble(broker.url, undefined, { persistentAs: "hub-restart" });
    const daemon = await fleetDaemon(
      home,
      { device_id: "restart-1", broker: broker.url, trust: [hub.key.publicKey] },
      JOBS,
    );
    const ota = () => hub.reports("restart-1").filter((r) => r.kind === "ota");
    try {
      await hub.waitFor(() => hub.of("status", "restart-1").at(-1)?.body?.state === "online");
      const first = await hub.announce(announcementOf("restart-1", MODEL, 1, good, files.url("/good.onnx"), meta()));
      await hub.waitFor(() => ota().some((r) => r.outcome === "activated"));

      await broker.stop();
      // While the broker is down the device trains a run: its report waits in the outbox.
      const run = await fetch(`${daemon.address().url}/v1/jobs/activity/run`, {
        method: "POST",
        headers: { authorization: `Bearer ${daemon.token()}`, "content-type": "application/json" },
        body: JSON.stringify({ key: "player_1" }),
      });
      expect(run.status).toBe(202);
      const finished = async () => {
        const runs = (await (await fetch(`${daemon.address().url}/v1/runs?job=activity`)).json()) as {
          runs: Array<{ status: string }>;
        };
        return runs.runs.some((r) => r.status === "succeeded" || r.status === "failed");
      };
      await hub.waitFor(finished, 60_000);
      expect(hub.reports("restart-1").some((r) => r.kind === "run")).toBe(false);

      await broker.restart();
      await hub.waitFor(() => hub.reports("restart-1").some((r) => r.kind === "run"), 30_000);
      expect(hub.reports("restart-1").find((r) => r.kind === "run")).toMatchObject({
        job: "activity",
        key: "player_1",
        state: "succeeded",
      });
      // The same announcement again, as a hub restarting its rollout sends it: handled once.
      await hub.client.publishAsync(topics.model("restart-1", MODEL), JSON.stringify(first), { qos: 1, retain: true });
      await hub.announce(announcementOf("restart-1", MODEL, 2, newer, files.url("/newer.onnx"), meta()));
      await hub.waitFor(() => ota().some((r) => r.version === 2));
      expect(ota().map((r) => `${r.version}:${r.outcome}`)).toEqual(["1:activated", "2:activated"]);
      expect(files.requests.map((r) => r.path)).toEqual(["/good.onnx", "/newer.onnx"]);
      expect((await versions(daemon)).filter((v) => v.source === "fleet").length).toBe(2);
      const ids = hub.reports("restart-1").map((r) => r.id);
      expect(new Set(ids).size).toBe(ids.length);
    } finally {
      await daemon.stop();
      await hub.close();
      files.stop();
    }
  }, 120_000);
});
