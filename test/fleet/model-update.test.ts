import { beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { Daemon } from "../../runtime/daemon.ts";
import { writeAthletes } from "../../runtime/demo/athletes.ts";
import { topics } from "../../runtime/fleet/protocol.ts";
import { generateHubKey, signMessage } from "../../runtime/fleet/signing.ts";
import { tempDir, waitUntil } from "../helpers.ts";
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
import { api, startHub } from "./hub-fixture.ts";
import { startMosquitto } from "./mosquitto.ts";

const MODEL = FLEET_MODEL;
const JOBS = DEVICE_JOBS;

let models: Awaited<ReturnType<typeof trainedModels>>;
const trainDir = tempDir("edgetrain-fleet-models-");
beforeAll(async () => {
  models = await trainedModels(trainDir.path);
}, 120_000);

type Versions = {
  active?: number;
  versions: Array<{
    version: number;
    status: string;
    source?: string;
    fleet?: { version: number };
    gate?: Record<string, unknown>;
  }>;
};

async function modelState(daemon: Daemon): Promise<Versions | undefined> {
  const response = await fetch(`${daemon.address().url}/v1/models/${MODEL}`);
  return response.status === 404 ? undefined : ((await response.json()) as Versions);
}

/** A device home with the athletes' sessions: its job's held-out rows are what the gate scores on. */
function deviceHome(path: string): string {
  const home = join(path, "home");
  writeAthletes(join(home, "data/athletes"), ATHLETES);
  return home;
}

const meta = () => ({
  feature_names: models.good.metadata!.feature_names as string[],
  classes: models.good.metadata!.classes as string[],
});

describe("device agent: model updates", () => {
  test("an update passes the gate and serves; a much worse one is rejected; a close one serves", async () => {
    await using broker = await startMosquitto();
    await using dir = tempDir();
    const good = fileFacts(models.good.artifact);
    const weak = fileFacts(models.weak.artifact);
    const newer = fileFacts(models.newer.artifact);
    const files = fileServer({ "/good.onnx": good.bytes, "/weak.onnx": weak.bytes, "/newer.onnx": newer.bytes });
    const hub = await hubDouble(broker.url);
    const daemon = await fleetDaemon(
      deviceHome(dir.path),
      { device_id: "ota-1", broker: broker.url, trust: [hub.key.publicKey] },
      JOBS,
    );
    const outcomes = () =>
      hub
        .reports("ota-1")
        .filter((r) => r.kind === "ota")
        .map((r) => `${r.version}:${r.outcome}`);
    try {
      await hub.waitFor(() => hub.of("status", "ota-1").at(-1)?.body?.state === "online");
      await hub.announce(announcementOf("ota-1", MODEL, 1, good, files.url("/good.onnx"), meta()));
      await hub.waitFor(() => outcomes().includes("1:activated"));
      let state = await modelState(daemon);
      expect(state!.active).toBe(1);
      expect(state!.versions[0]).toMatchObject({ version: 1, source: "fleet", fleet: { version: 1 } });

      await hub.announce(announcementOf("ota-1", MODEL, 2, weak, files.url("/weak.onnx"), meta()));
      await hub.waitFor(() => outcomes().includes("2:rejected"));
      const rejected = hub.reports("ota-1").find((r) => r.version === 2)!;
      expect(rejected.scores).toMatchObject({
        metric: "accuracy",
        candidate: expect.any(Number),
        active: expect.any(Number),
        active_version: 1,
        passed: false,
      });
      expect((await modelState(daemon))!.active).toBe(1);
      // The same file in another rollout keeps the gate's verdict: not downloaded again, not forced in.
      await hub.announce(announcementOf("ota-1", MODEL, 2, weak, files.url("/weak.onnx"), meta(), "again"));
      await hub.waitFor(() => hub.reports("ota-1").some((r) => r.rollout === "again"));
      expect(hub.reports("ota-1").find((r) => r.rollout === "again")).toMatchObject({ outcome: "rejected" });
      expect(files.requests.filter((r) => r.path === "/weak.onnx").length).toBe(1);

      await hub.announce(announcementOf("ota-1", MODEL, 3, newer, files.url("/newer.onnx"), meta()));
      await hub.waitFor(() => outcomes().includes("3:activated"));
      state = await modelState(daemon);
      expect(state!.active).toBe(3);
      expect(state!.versions.map((v) => `${v.version}:${v.status}`)).toEqual(["3:active", "2:rejected", "1:retired"]);
      expect(readdirSync(join(dir.path, "home/models/.incoming"))).toEqual([]);
      // Registration follows the change: the retained info names the version that serves now.
      await hub.waitFor(
        () =>
          (hub.of("info", "ota-1").at(-1)?.body?.models as Array<{ active?: number }> | undefined)?.[0]?.active === 3,
      );
    } finally {
      await daemon.stop();
      await hub.close();
      files.stop();
    }
  }, 120_000);

  test("a wrong hash or signature leaves the store untouched; a file that is no model never serves", async () => {
    await using broker = await startMosquitto();
    await using dir = tempDir();
    const good = fileFacts(models.good.artifact);
    const files = fileServer({ "/good.onnx": good.bytes });
    const hub = await hubDouble(broker.url);
    const daemon = await fleetDaemon(
      deviceHome(dir.path),
      { device_id: "ota-2", broker: broker.url, trust: [hub.key.publicKey] },
      JOBS,
    );
    try {
      await hub.waitFor(() => hub.of("status", "ota-2").at(-1)?.body?.state === "online");
      const forger = generateHubKey().keys;
      await hub.announce(announcementOf("ota-2", MODEL, 1, good, files.url("/good.onnx"), meta(), "forged"), forger);
      await hub.waitFor(() => hub.reports("ota-2").some((r) => r.rollout === "forged"));
      expect(hub.reports("ota-2").find((r) => r.rollout === "forged")).toMatchObject({
        outcome: "failed",
        reason: expect.stringContaining("signature"),
      });
      expect(files.requests).toEqual([]);

      await hub.announce(
        { ...announcementOf("ota-2", MODEL, 1, good, files.url("/good.onnx"), meta(), "unsigned") },
        "unsigned",
      );
      await hub.waitFor(() => hub.reports("ota-2").some((r) => r.rollout === "unsigned"));
      expect(hub.reports("ota-2").find((r) => r.rollout === "unsigned")).toMatchObject({
        outcome: "failed",
        reason: "refused: unsigned",
      });
      expect(files.requests).toEqual([]);

      const wrongHash = { ...good, sha256: "0".repeat(64) };
      await hub.announce(announcementOf("ota-2", MODEL, 1, wrongHash, files.url("/good.onnx"), meta(), "bad-hash"));
      await hub.waitFor(() => hub.reports("ota-2").some((r) => r.rollout === "bad-hash"));
      expect(hub.reports("ota-2").find((r) => r.rollout === "bad-hash")).toMatchObject({
        outcome: "failed",
        reason: expect.stringContaining("sha256"),
      });
      expect(files.requests.length).toBe(1);
      expect(await modelState(daemon)).toBeUndefined();
      expect(readdirSync(join(dir.path, "home/models")).filter((name) => !name.startsWith("."))).toEqual([]);
      expect(readdirSync(join(dir.path, "home/models/.incoming"))).toEqual([]);

      // A file that matches its hash but is no model: stored, refused by its deploy steps, never served.
      const garbage = new TextEncoder().encode("not an onnx model ".repeat(64));
      const facts = {
        bytes: garbage,
        size: garbage.length,
        sha256: new Bun.CryptoHasher("sha256").update(garbage).digest("hex"),
      };
      const served = fileServer({ "/garbage.onnx": garbage });
      await hub.announce(announcementOf("ota-2", MODEL, 1, facts, served.url("/garbage.onnx"), meta(), "garbage"));
      await hub.waitFor(() => hub.reports("ota-2").some((r) => r.rollout === "garbage"));
      served.stop();
      expect(hub.reports("ota-2").find((r) => r.rollout === "garbage")).toMatchObject({
        outcome: "failed",
        reason: expect.stringContaining("gate"),
      });
      expect((await modelState(daemon))!.active).toBeUndefined();
    } finally {
      await daemon.stop();
      await hub.close();
      files.stop();
    }
  }, 60_000);

  test("a download cut short resumes with Range where it stopped", async () => {
    await using broker = await startMosquitto();
    await using dir = tempDir();
    const good = fileFacts(models.good.artifact);
    const files = fileServer({ "/good.onnx": good.bytes }, { cutAfter: Math.floor(good.size / 2) });
    const hub = await hubDouble(broker.url);
    const daemon = await fleetDaemon(
      deviceHome(dir.path),
      { device_id: "ota-3", broker: broker.url, trust: [hub.key.publicKey] },
      JOBS,
    );
    try {
      await hub.waitFor(() => hub.of("status", "ota-3").at(-1)?.body?.state === "online");
      await hub.announce(announcementOf("ota-3", MODEL, 1, good, files.url("/good.onnx"), meta()));
      await hub.waitFor(() => hub.reports("ota-3").some((r) => r.outcome === "activated"));
      expect(files.requests.map((r) => r.range)).toEqual([null, `bytes=${Math.floor(good.size / 2)}-`]);
      expect((await modelState(daemon))!.active).toBe(1);
    } finally {
      await daemon.stop();
      await hub.close();
      files.stop();
    }
  }, 60_000);

  test("a download the hub's outage breaks off is tried again and serves without a restart, never failed", async () => {
    await using broker = await startMosquitto();
    await using dir = tempDir();
    const good = fileFacts(models.good.artifact);
    const half = Math.floor(good.size / 2);
    const files = fileServer({ "/good.onnx": good.bytes }, { cutAfter: half });
    const hub = await hubDouble(broker.url);
    const daemon = await fleetDaemon(
      deviceHome(dir.path),
      { device_id: "ota-7", broker: broker.url, trust: [hub.key.publicKey] },
      JOBS,
    );
    try {
      await hub.waitFor(() => hub.of("status", "ota-7").at(-1)?.body?.state === "online");
      await hub.announce(announcementOf("ota-7", MODEL, 1, good, files.url("/good.onnx"), meta()));
      // The transfer breaks off half way and the hub is gone (connections refused) for 7 s: longer than the
      // device's retries used to last (5 s), and past its first try again, so that one is refused too.
      await hub.waitFor(() => files.requests.length === 1);
      await Bun.sleep(300);
      files.stop();
      await Bun.sleep(7000);
      expect(hub.reports("ota-7")).toEqual([]);
      files.start();
      await hub.waitFor(() => hub.reports("ota-7").some((r) => r.outcome === "activated"));
      expect(hub.reports("ota-7").map((r) => r.outcome)).toEqual(["activated"]);
      expect(files.requests.map((r) => r.range)).toEqual([null, `bytes=${half}-`]);
      expect((await modelState(daemon))!.active).toBe(1);
    } finally {
      await daemon.stop();
      await hub.close();
      files.stop();
    }
  }, 90_000);

  test("a newer announcement does not wait behind retries; a stop ends them and reports nothing", async () => {
    await using broker = await startMosquitto();
    await using dir = tempDir();
    const good = fileFacts(models.good.artifact);
    const newer = fileFacts(models.newer.artifact);
    const files = fileServer({ "/good.onnx": good.bytes });
    const gone = fileServer({ "/newer.onnx": newer.bytes });
    gone.stop();
    const hub = await hubDouble(broker.url);
    const daemon = await fleetDaemon(
      deviceHome(dir.path),
      { device_id: "ota-8", broker: broker.url, trust: [hub.key.publicKey] },
      JOBS,
    );
    const rollouts = () => hub.reports("ota-8").map((r) => `${r.rollout}:${r.outcome}`);
    try {
      await hub.waitFor(() => hub.of("status", "ota-8").at(-1)?.body?.state === "online");
      await hub.announce(announcementOf("ota-8", MODEL, 2, newer, gone.url("/newer.onnx"), meta(), "unreachable"));
      await Bun.sleep(1000);
      // Without giving way, this one would wait for the retries above to run out (an hour by default).
      await hub.announce(announcementOf("ota-8", MODEL, 1, good, files.url("/good.onnx"), meta(), "rollback"));
      await hub.waitFor(() => rollouts().includes("rollback:activated"), 15_000);
      expect(readdirSync(join(dir.path, "home/models/.incoming"))).toEqual([]);

      await hub.announce(announcementOf("ota-8", MODEL, 2, newer, gone.url("/newer.onnx"), meta(), "stopped"));
      await Bun.sleep(1000);
      const stopping = Date.now();
      await daemon.stop();
      expect(Date.now() - stopping).toBeLessThan(10_000);
      expect(rollouts()).toEqual(["rollback:activated"]);
    } finally {
      await daemon.stop();
      await hub.close();
      files.stop();
    }
  }, 60_000);

  test("an older announcement replayed after a newer one is refused: the model is not taken back", async () => {
    await using broker = await startMosquitto();
    await using dir = tempDir();
    const good = fileFacts(models.good.artifact);
    const newer = fileFacts(models.newer.artifact);
    const files = fileServer({ "/good.onnx": good.bytes, "/newer.onnx": newer.bytes });
    const hub = await hubDouble(broker.url);
    const daemon = await fleetDaemon(
      deviceHome(dir.path),
      { device_id: "ota-6", broker: broker.url, trust: [hub.key.publicKey] },
      JOBS,
    );
    const outcome = (rollout: string) => hub.reports("ota-6").find((r) => r.rollout === rollout);
    try {
      await hub.waitFor(() => hub.of("status", "ota-6").at(-1)?.body?.state === "online");
      // Signed by the hub but never acted on here (its download failed, say), then superseded.
      const old = signMessage(
        announcementOf("ota-6", MODEL, 1, good, files.url("/good.onnx"), meta(), "r-old"),
        hub.key,
      );
      await Bun.sleep(5);
      await hub.announce(announcementOf("ota-6", MODEL, 2, newer, files.url("/newer.onnx"), meta(), "r-new"));
      await hub.waitFor(() => outcome("r-new")?.outcome === "activated");
      const downloads = files.requests.length;
      // Replayed on another topic of the device's, so that it does not replace the newer one; retained, so that
      // a device that lost the broker for a moment on a loaded machine still gets it when it is back.
      await hub.client.publishAsync(topics.model("ota-6", "replayed"), JSON.stringify(old), { qos: 1, retain: true });
      await hub.waitFor(() => outcome("r-old") !== undefined);
      expect(outcome("r-old")).toMatchObject({ outcome: "failed", reason: expect.stringContaining("superseded") });
      expect(files.requests.length).toBe(downloads);
      const state = (await modelState(daemon))!;
      expect(state.versions.find((v) => v.version === state.active)?.fleet?.version).toBe(2);
    } finally {
      await daemon.stop();
      await hub.close();
      files.stop();
    }
  }, 60_000);

  test("a message nested thousands deep is refused, and the device goes on taking updates", async () => {
    await using broker = await startMosquitto();
    await using dir = tempDir();
    const good = fileFacts(models.good.artifact);
    const files = fileServer({ "/good.onnx": good.bytes });
    const hub = await hubDouble(broker.url);
    const daemon = await fleetDaemon(
      deviceHome(dir.path),
      { device_id: "ota-5", broker: broker.url, trust: [hub.key.publicKey] },
      JOBS,
    );
    try {
      await hub.waitFor(() => hub.of("status", "ota-5").at(-1)?.body?.state === "online");
      const deep = `{"signature":"x","a":${"[".repeat(30_000)}${"]".repeat(30_000)}}`;
      await hub.client.publishAsync(topics.model("ota-5", "other"), deep, { qos: 1 });
      await hub.client.publishAsync(topics.commands("ota-5"), deep, { qos: 1 });
      await hub.announce(announcementOf("ota-5", MODEL, 1, good, files.url("/good.onnx"), meta()));
      await hub.waitFor(() => hub.reports("ota-5").some((r) => r.outcome === "activated"));
      expect((await modelState(daemon))!.active).toBe(1);
    } finally {
      await daemon.stop();
      await hub.close();
      files.stop();
    }
  }, 60_000);
});

describe("device agent: auto_update off, and predictions in heartbeats", () => {
  test("an update is only verified until a person activates it; the hub hears both", async () => {
    await using broker = await startMosquitto();
    await using dir = tempDir();
    const good = fileFacts(models.good.artifact);
    const files = fileServer({ "/good.onnx": good.bytes });
    const hub = await hubDouble(broker.url);
    const fleet = {
      device_id: "ota-4",
      broker: broker.url,
      trust: [hub.key.publicKey],
      auto_update: false,
      heartbeat_interval: "300ms",
    };
    const daemon = await fleetDaemon(deviceHome(dir.path), fleet, JOBS);
    const outcomes = () => hub.reports("ota-4").map((r) => r.outcome);
    try {
      await hub.waitFor(() => hub.of("status", "ota-4").at(-1)?.body?.state === "online");
      await hub.announce(announcementOf("ota-4", MODEL, 1, good, files.url("/good.onnx"), meta()));
      await hub.waitFor(() => outcomes().includes("verified"));
      const state = await modelState(daemon);
      expect(state!.active).toBeUndefined();
      expect(state!.versions).toMatchObject([{ version: 1, status: "candidate", source: "fleet" }]);

      const activate = await fetch(`${daemon.address().url}/v1/models/${MODEL}/activate`, {
        method: "POST",
        headers: { authorization: `Bearer ${daemon.token()}`, "content-type": "application/json" },
        body: JSON.stringify({ version: 1 }),
      });
      expect(activate.status).toBe(200);
      await hub.waitFor(() => outcomes().includes("activated"));
      expect(outcomes()).toEqual(["verified", "activated"]);

      // Predictions answered show in the next heartbeat: how many, and which classes, per model.
      const row = Array.from(models.heldOut.x.subarray(0, models.heldOut.featureNames.length));
      const rows = [row, row, row];
      const predicted = (await (
        await fetch(`${daemon.address().url}/v1/predict/${MODEL}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ inputs: rows }),
        })
      ).json()) as { outputs: Array<{ label: string }> };
      const label = predicted.outputs[0]!.label;
      type Beat = { predictions?: { total: number; by_model?: Record<string, { count: number; classes?: object }> } };
      const beats = () => hub.of("heartbeat", "ota-4").map((h) => h.body as Beat);
      await hub.waitFor(() => beats().some((b) => b.predictions?.by_model?.[MODEL] !== undefined));
      const beat = beats().find((b) => b.predictions?.by_model?.[MODEL] !== undefined)!;
      expect(beat.predictions!.total).toBe(3);
      expect(beat.predictions!.by_model![MODEL]).toEqual({ count: 3, classes: { [label]: 3 } });
      // Since the last heartbeat: the next ones count nothing new.
      const after = beats().indexOf(beat) + 1;
      await hub.waitFor(() => beats().length > after);
      expect(beats()[after]!.predictions!.by_model).toEqual({});
    } finally {
      await daemon.stop();
      await hub.close();
      files.stop();
    }
  }, 60_000);
});

describe("device agent: auto_update off keeps models.keep_versions", () => {
  test("verified updates never activated are pruned oldest first; the newest stays for a person", async () => {
    await using broker = await startMosquitto();
    await using dir = tempDir();
    // Distinct files that still load: a trailing varint of field 15, which ModelProto does not use.
    const good = fileFacts(models.good.artifact);
    const variant = (i: number) => {
      const bytes = new Uint8Array([...good.bytes, 0x78, i]);
      return { bytes, size: bytes.length, sha256: new Bun.CryptoHasher("sha256").update(bytes).digest("hex") };
    };
    const updates = [1, 2, 3, 4, 5, 6].map(variant);
    const files = fileServer(Object.fromEntries(updates.map((file, i) => [`/v${i + 1}.onnx`, file.bytes])));
    const hub = await hubDouble(broker.url);
    const fleet = { device_id: "ota-6", broker: broker.url, trust: [hub.key.publicKey], auto_update: false };
    const daemon = await fleetDaemon(deviceHome(dir.path), fleet, `models: { keep_versions: 2 }\n${JOBS}`);
    const outcome = (version: number) => hub.reports("ota-6").find((r) => r.version === version)?.outcome;
    const kept = async () => (await modelState(daemon))!.versions.map((v) => v.version);
    try {
      for (const version of [1, 2, 3, 4, 5]) {
        await hub.announce(
          announcementOf("ota-6", MODEL, version, updates[version - 1]!, files.url(`/v${version}.onnx`), meta()),
        );
        await hub.waitFor(() => outcome(version) === "verified");
      }
      expect(await kept()).toEqual([5, 4]);
      expect(readdirSync(join(dir.path, "home/models", MODEL)).filter((n) => /^\d+$/.test(n))).toHaveLength(2);

      const activate = await fetch(`${daemon.address().url}/v1/models/${MODEL}/activate`, {
        method: "POST",
        headers: { authorization: `Bearer ${daemon.token()}`, "content-type": "application/json" },
        body: JSON.stringify({ version: 5 }),
      });
      expect(activate.status).toBe(200);
      await hub.announce(announcementOf("ota-6", MODEL, 6, updates[5]!, files.url("/v6.onnx"), meta()));
      await hub.waitFor(() => outcome(6) === "verified");
      // Active 5 plus 2 others: the waiting 6 and the newest before it.
      expect((await modelState(daemon))!.active).toBe(5);
      expect(await kept()).toEqual([6, 5, 4]);
    } finally {
      await daemon.stop();
      await hub.close();
      files.stop();
    }
  }, 60_000);
});

describe("device agent: a stored update that never passed its deploy steps", () => {
  test("announced again with auto_update on, it goes through the gate rather than straight into service", async () => {
    await using broker = await startMosquitto();
    await using dir = tempDir();
    const home = deviceHome(dir.path);
    const good = fileFacts(models.good.artifact);
    const weak = fileFacts(models.weak.artifact);
    const files = fileServer({ "/good.onnx": good.bytes, "/weak.onnx": weak.bytes });
    const hub = await hubDouble(broker.url);
    const fleet = { device_id: "ota-5", broker: broker.url, trust: [hub.key.publicKey] };
    const reported = (rollout: string) => hub.reports("ota-5").find((r) => r.rollout === rollout);
    let daemon = await fleetDaemon(home, fleet, JOBS);
    try {
      await hub.announce(announcementOf("ota-5", MODEL, 1, good, files.url("/good.onnx"), meta(), "first"));
      await hub.waitFor(() => reported("first")?.outcome === "activated");
      await daemon.stop();

      daemon = await fleetDaemon(home, { ...fleet, auto_update: false }, JOBS);
      await hub.announce(announcementOf("ota-5", MODEL, 2, weak, files.url("/weak.onnx"), meta(), "held"));
      await hub.waitFor(() => reported("held")?.outcome === "verified");
      await daemon.stop();

      daemon = await fleetDaemon(home, fleet, JOBS);
      await hub.announce(announcementOf("ota-5", MODEL, 2, weak, files.url("/weak.onnx"), meta(), "again"));
      await hub.waitFor(() => reported("again") !== undefined);
      expect(reported("again")).toMatchObject({ outcome: "rejected", scores: { passed: false, active_version: 1 } });
      expect((await modelState(daemon))!.active).toBe(1);
      expect(files.requests.filter((r) => r.path === "/weak.onnx").length).toBe(1);
    } finally {
      await daemon.stop();
      await hub.close();
      files.stop();
    }
  }, 60_000);
});

describe("device agent and a real hub: the hub's version numbers", () => {
  test("a hub version stored under another number on the device is listed and counted by the hub's", async () => {
    await using broker = await startMosquitto();
    await using dir = tempDir();
    await using hubHome = tempDir();
    await using hub = await startHub(hubHome.path, { broker: broker.url });
    const fleet = {
      device_id: "ota-7",
      broker: broker.url,
      trust: [hub.keys.publicKey],
      heartbeat_interval: "300ms",
    };
    const daemon = await fleetDaemon(deviceHome(dir.path), fleet, JOBS);
    const running = () => hub.registry.device("ota-7")?.models;
    try {
      // A version imported here takes number 1 on the device: the hub has no number for it.
      const imported = await fetch(`${daemon.address().url}/v1/models/${MODEL}/versions?activate=true`, {
        method: "POST",
        headers: { authorization: `Bearer ${daemon.token()}`, "content-type": "application/octet-stream" },
        body: fileFacts(models.weak.artifact).bytes,
      });
      expect(imported.status).toBe(201);
      await waitUntil(() => hub.registry.device("ota-7")?.info?.models[0]?.active === 1, 20_000);
      expect(running()).toEqual([{ model: MODEL, version: null, local_version: 1, metrics: expect.any(Object) }]);

      // The hub's version 1 is stored as the device's version 2.
      const upload = await fetch(`${hub.url}/v1/fleet/models/${MODEL}`, {
        method: "POST",
        headers: { authorization: `Bearer ${hub.token}` },
        body: fileFacts(models.good.artifact).bytes,
      });
      expect(upload.status).toBe(201);
      const rollout = await api(hub, "POST", "/v1/fleet/rollouts", { model: MODEL, waves: [1] });
      expect(rollout.status).toBe(201);
      const state = async () => (await api(hub, "GET", `/v1/fleet/rollouts/${rollout.json.id}`)).json;
      await waitUntil(async () => (await state()).state === "completed", 30_000);
      expect((await state()).counts.activated).toBe(1);
      const local = (await modelState(daemon))!;
      expect(local.active).toBe(2);
      expect(local.versions.find((v) => v.version === 2)).toMatchObject({ source: "fleet", fleet: { version: 1 } });

      // The registration the activation sends again, and a heartbeat after it, keep the hub's number.
      await waitUntil(() => hub.registry.device("ota-7")?.info?.models[0]?.active === 2, 20_000);
      const beats = await hub.registry.heartbeatCount("ota-7");
      await waitUntil(async () => (await hub.registry.heartbeatCount("ota-7")) > beats, 20_000);
      expect(running()).toEqual([{ model: MODEL, version: 1, local_version: 2, metrics: expect.any(Object) }]);
      const onV1 = await api(hub, "GET", `/v1/fleet/devices?model=${MODEL}&version=1`);
      expect(onV1.json.devices.map((device: { id: string }) => device.id)).toEqual(["ota-7"]);
      const onV2 = await api(hub, "GET", `/v1/fleet/devices?model=${MODEL}&version=2`);
      expect(onV2.json.devices).toEqual([]);
      const counted = await api(hub, "GET", "/v1/fleet/models");
      expect(counted.json.models).toEqual([expect.objectContaining({ model: MODEL, version: 1, devices: 1 })]);
    } finally {
      await daemon.stop();
    }
  }, 90_000);
});
