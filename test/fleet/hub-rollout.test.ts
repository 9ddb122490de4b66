import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { trustedKey, verifyMessage } from "../../runtime/fleet/signing.ts";
import { runCli, tempDir, waitUntil } from "../helpers.ts";
import { api, onnxFile, startHub } from "./hub-fixture.ts";
import { startMosquitto } from "./mosquitto.ts";
import { type PlayDevice, playDevice } from "./play-device.ts";

async function fleetOf(url: string, count: number, groups: string[] = []): Promise<PlayDevice[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) => playDevice(url, `dev-${String(i).padStart(2, "0")}`, { groups })),
  );
}

async function publish(hub: Awaited<ReturnType<typeof startHub>>, file: string, rollout: Record<string, unknown>) {
  const upload = await fetch(`${hub.url}/v1/fleet/models/player_1`, {
    method: "POST",
    headers: { authorization: `Bearer ${hub.token}` },
    body: readFileSync(file),
  });
  expect(upload.status).toBe(201);
  const started = await api(hub, "POST", "/v1/fleet/rollouts", { model: "player_1", ...rollout });
  expect(started.status).toBe(201);
  return started.json as { id: string; version: number };
}

describe("hub rollouts", () => {
  test("a staged rollout goes in waves, each once the one before reported; announcements verify", async () => {
    await using home = tempDir();
    await using hub = await startHub(home.path);
    const devices = await fleetOf(hub.brokerUrl, 10);
    try {
      await waitUntil(() => hub.registry.devices().length === 10);
      const file = onnxFile(home.path);
      const rollout = await publish(hub, file, { waves: [0.1, 0.5, 1], max_failures: 0.05 });
      const trusted = [trustedKey(hub.keys.publicKey)!];
      const announced = () => devices.filter((device) => device.announcements.length > 0);
      await waitUntil(() => announced().length === 1);
      const first = announced()[0]!.announcements[0]!;
      expect(verifyMessage(first, trusted)).toBe(true);
      expect(first).toMatchObject({
        model: "player_1",
        version: 1,
        task: "classification",
        feature_names: ["hr", "speed"],
        classes: ["rest", "run"],
        rollout: rollout.id,
      });
      expect(first.sha256).toBe(createHash("sha256").update(readFileSync(file)).digest("hex"));
      const state = async () => (await api(hub, "GET", `/v1/fleet/rollouts/${rollout.id}`)).json;
      expect((await state()).wave).toBe(1);
      // Each wave waits for its devices; then the next one starts (to 50%, then to 100%).
      const reported = new Set<string>();
      const answerAll = async () => {
        for (const device of announced()) {
          if (reported.has(device.id)) continue;
          reported.add(device.id);
          const announcement = device.announcements.at(-1)!;
          expect(verifyMessage(announcement, trusted)).toBe(true);
          expect(announcement.device).toBe(device.id);
          await device.otaReport(announcement, "activated");
        }
      };
      await answerAll();
      await waitUntil(() => announced().length === 5);
      await Bun.sleep(100);
      expect(announced()).toHaveLength(5);
      await answerAll();
      await waitUntil(() => announced().length === 10);
      await answerAll();
      await waitUntil(async () => (await state()).state === "completed");
      const done = await state();
      expect(done.counts.activated).toBe(10);
      expect(done.devices.map((d: { wave: number }) => d.wave)).toEqual([1, 2, 2, 2, 2, 3, 3, 3, 3, 3]);
      const onV1 = await api(hub, "GET", "/v1/fleet/devices?model=player_1&version=1");
      expect(onV1.json.devices).toHaveLength(10);
      const deployments = (await api(hub, "GET", `/v1/fleet/devices/${first.device}`)).json.deployments;
      expect(deployments).toEqual([expect.objectContaining({ rollout: rollout.id, version: 1, state: "activated" })]);
    } finally {
      await Promise.all(devices.map((device) => device.close()));
    }
  });

  test("a rollout past --max-failures halts by itself, says why, and announces no further wave", async () => {
    await using home = tempDir();
    await using hub = await startHub(home.path);
    const devices = await fleetOf(hub.brokerUrl, 4, ["lab"]);
    try {
      await waitUntil(() => hub.registry.devices({ group: "lab" }).length === 4);
      const rollout = await publish(hub, onnxFile(home.path), { group: "lab", waves: [0.5, 1], max_failures: 0.25 });
      const announced = () => devices.filter((device) => device.announcements.length > 0);
      await waitUntil(() => announced().length === 2);
      const [a, b] = announced();
      await a!.otaReport(a!.announcements[0]!, "activated");
      await b!.otaReport(b!.announcements[0]!, "rejected", "gate: candidate f1 0.61 < active 0.74");
      const state = async () => (await api(hub, "GET", `/v1/fleet/rollouts/${rollout.id}`)).json;
      await waitUntil(async () => (await state()).state === "halted");
      const halted = await state();
      expect(halted.reason).toContain("1 of 2 devices failed (50.0%), over the 25.0% allowed");
      expect(halted.reason).toContain("gate: candidate f1 0.61 < active 0.74");
      expect(halted.counts.waiting).toBe(2);
      await Bun.sleep(200);
      expect(announced()).toHaveLength(2);
      expect((await api(hub, "POST", `/v1/fleet/rollouts/${rollout.id}/resume`)).status).toBe(409);
      const metrics = await (await fetch(`${hub.url}/metrics`)).text();
      expect(metrics).toContain('edgetrain_hub_rollouts{state="halted"} 1');
    } finally {
      await Promise.all(devices.map((device) => device.close()));
    }
  });

  test("a halted rollout takes late reports and resumes to the devices left once a person says so", async () => {
    await using broker = await startMosquitto();
    await using home = tempDir();
    await using hub = await startHub(home.path, { broker: broker.url });
    const devices = await fleetOf(broker.url, 4);
    const hubCli = (...args: string[]) =>
      runCli([...args, "--url", hub.url, "--token", hub.token], { home: home.path });
    try {
      await waitUntil(() => hub.registry.devices({ registered: true }).length === 4);
      const rollout = await publish(hub, onnxFile(home.path), { waves: [0.5, 1], max_failures: 0.25 });
      const state = async () => (await api(hub, "GET", `/v1/fleet/rollouts/${rollout.id}`)).json;
      const announced = () => devices.filter((device) => device.announcements.length > 0);
      await waitUntil(() => announced().length === 2);
      const [a, b, c, d] = devices;
      await a!.otaReport(a!.announcements[0]!, "activated");
      await b!.otaReport(b!.announcements[0]!, "failed", "download: connection reset");
      await waitUntil(async () => (await state()).state === "halted");
      const why = (await state()).reason;
      expect(why).toContain("1 of 2 devices failed (50.0%)");

      // Still past its limit: resuming would only halt it again, so it is refused and nothing changes.
      const early = await hubCli("hub", "resume", rollout.id);
      expect(early.code).toBe(1);
      expect(early.stderr).toContain(`rollout ${rollout.id} is still past its failure limit: 1 of 2 devices failed`);
      expect(early.stderr).toContain("--max-failures");
      expect(await state()).toMatchObject({ state: "halted", reason: why });

      // The device tried again and activated: recorded for it, while the rollout waits for a person.
      await b!.otaReport(b!.announcements[0]!, "activated");
      await waitUntil(async () => (await state()).counts.activated === 2);
      expect(hub.registry.device(b!.id)?.models).toEqual([expect.objectContaining({ model: "player_1", version: 1 })]);
      hub.rollouts.tick();
      expect((await state()).state).toBe("halted");
      expect(announced()).toHaveLength(2);

      const resumed = await hubCli("hub", "resume", rollout.id);
      expect(resumed.stderr).toBe("");
      expect(resumed.stdout).toStartWith(`rollout ${rollout.id}: running, wave 2/2\n`);
      await waitUntil(() => announced().length === 4);
      await c!.otaReport(c!.announcements[0]!, "rejected", "gate: candidate f1 0.61 < active 0.74");
      await d!.otaReport(d!.announcements[0]!, "failed", "disk full");
      await waitUntil(async () => (await state()).state === "halted");

      // A person's call: go on past these failures with a higher limit, which the rollout keeps.
      const pausing = await hubCli("hub", "pause", rollout.id, "--max-failures", "60%");
      expect(pausing.code).toBe(2);
      const past = await hubCli("hub", "resume", rollout.id, "--max-failures", "50%", "--json");
      expect(past.code).toBe(0);
      expect(JSON.parse(past.stdout)).toMatchObject({ state: "completed", max_failures: 0.5, reason: null });
      const done = await state();
      expect(done.counts).toMatchObject({ activated: 2, rejected: 1, failed: 1, waiting: 0 });
      expect(done.halts).toEqual([
        { at: expect.any(Number), reason: why, resumed_at: expect.any(Number) },
        {
          at: expect.any(Number),
          reason: expect.stringContaining("2 of 4 devices failed (50.0%), over the 25.0% allowed"),
          resumed_at: expect.any(Number),
        },
      ]);
      const shown = await hubCli("fleet", "rollout", rollout.id);
      expect(shown.stdout).toMatch(/halted {4}\d+s ago: 1 of 2 devices failed .*; resumed \d+s ago\n/);
    } finally {
      await Promise.all(devices.map((device) => device.close()));
    }
  }, 60_000);

  test("a wave that times out lets the next one start; pause holds it and resume goes on", async () => {
    await using home = tempDir();
    let now = Date.now();
    await using hub = await startHub(home.path, { now: () => now });
    const devices = await fleetOf(hub.brokerUrl, 2);
    try {
      await waitUntil(() => hub.registry.devices().length === 2);
      const rollout = await publish(hub, onnxFile(home.path), { waves: [0.5, 1], wave_timeout_ms: 60_000 });
      const announced = () => devices.filter((device) => device.announcements.length > 0);
      await waitUntil(() => announced().length === 1);
      expect((await api(hub, "POST", `/v1/fleet/rollouts/${rollout.id}/pause`)).json.state).toBe("paused");
      now += 61_000;
      hub.rollouts.tick();
      await Bun.sleep(200);
      expect(announced()).toHaveLength(1);
      expect((await api(hub, "POST", `/v1/fleet/rollouts/${rollout.id}/resume`)).json.state).toBe("running");
      now += 60_000;
      hub.rollouts.tick();
      await waitUntil(() => announced().length === 2);
      const aborted = await api(hub, "POST", `/v1/fleet/rollouts/${rollout.id}/abort`);
      expect(aborted.json).toMatchObject({ state: "aborted", reason: "aborted by a person" });
    } finally {
      await Promise.all(devices.map((device) => device.close()));
    }
  });

  test("a resumed wave gives its silent devices the full wave timeout again, after a pause or a halt", async () => {
    await using home = tempDir();
    let now = Date.now();
    await using hub = await startHub(home.path, { now: () => now });
    const devices = await fleetOf(hub.brokerUrl, 4);
    try {
      await waitUntil(() => hub.registry.devices({ registered: true }).length === 4);
      const plan = { waves: [0.25, 0.75, 1], max_failures: 0.25, wave_timeout_ms: 60_000 };
      const rollout = await publish(hub, onnxFile(home.path), plan);
      const state = async () => (await api(hub, "GET", `/v1/fleet/rollouts/${rollout.id}`)).json;
      const control = async (action: string, body?: unknown) =>
        (await api(hub, "POST", `/v1/fleet/rollouts/${rollout.id}/${action}`, body)).json;
      const [a, b, c, d] = devices;
      await waitUntil(() => a!.announcements.length === 1);

      // Paused past the wave's timeout: the silent device gets the whole timeout again from the resume.
      expect((await control("pause")).state).toBe("paused");
      now += 61_000;
      hub.rollouts.tick();
      expect(await control("resume")).toMatchObject({ state: "running", wave: 1, wave_resumed_at: now });
      now += 59_000;
      hub.rollouts.tick();
      expect(await state()).toMatchObject({ wave: 1, counts: { announced: 1, waiting: 3 } });
      now += 1_000;
      hub.rollouts.tick();
      expect(await state()).toMatchObject({ state: "running", wave: 2, wave_resumed_at: null });
      await waitUntil(() => b!.announcements.length === 1 && c!.announcements.length === 1);

      // Halted, then resumed past the timeout with a higher limit: the same for c, still silent.
      await b!.otaReport(b!.announcements[0]!, "failed", "disk full");
      await waitUntil(async () => (await state()).state === "halted");
      now += 61_000;
      hub.rollouts.tick();
      const resumed = await control("resume", { max_failures: 0.5 });
      expect(resumed).toMatchObject({ state: "running", wave: 2, wave_resumed_at: now, counts: { waiting: 1 } });
      now += 59_000;
      hub.rollouts.tick();
      expect((await state()).wave).toBe(2);
      now += 1_000;
      hub.rollouts.tick();
      expect((await state()).wave).toBe(3);
      await waitUntil(() => d!.announcements.length === 1);
    } finally {
      await Promise.all(devices.map((device) => device.close()));
    }
  });

  test("an outcome from a device the rollout has not announced to is dropped and counted", async () => {
    await using home = tempDir();
    await using hub = await startHub(home.path);
    const devices = await fleetOf(hub.brokerUrl, 2, ["lab"]);
    const outsider = await playDevice(hub.brokerUrl, "other-1", { groups: ["office"] });
    try {
      await waitUntil(() => hub.registry.devices().length === 3);
      const rollout = await publish(hub, onnxFile(home.path), { group: "lab", waves: [0.5, 1], max_failures: 0 });
      await waitUntil(() => devices[0]!.announcements.length === 1);
      // What a forged announcement naming the real rollout would make them answer.
      const forged = { ...devices[0]!.announcements[0]!, device: "dev-01" };
      await devices[1]!.otaReport(forged, "failed", "sha256 mismatch");
      await outsider.otaReport({ ...forged, device: "other-1" }, "rolled_back");
      const received = hub.registry.db.query<{ n: number }, []>("SELECT count(*) AS n FROM reports");
      await waitUntil(() => received.get()!.n === 2);
      const state = async () => (await api(hub, "GET", `/v1/fleet/rollouts/${rollout.id}`)).json;
      expect(await state()).toMatchObject({ state: "running", counts: { announced: 1, waiting: 1, failed: 0 } });
      const metrics = await (await fetch(`${hub.url}/metrics`)).text();
      expect(metrics).toContain('edgetrain_hub_reports_dropped_total{kind="ota",why="unannounced"} 2');
      await devices[0]!.otaReport(devices[0]!.announcements[0]!, "activated");
      await waitUntil(() => devices[1]!.announcements.length === 1);
      await devices[1]!.otaReport(devices[1]!.announcements[0]!, "activated");
      await waitUntil(async () => (await state()).state === "completed");
      expect((await state()).counts).toMatchObject({ activated: 2, failed: 0, rolled_back: 0 });
      expect(hub.rollouts.targets(rollout.id).map((target) => target.device)).toEqual(["dev-00", "dev-01"]);
    } finally {
      await Promise.all([...devices, outsider].map((device) => device.close()));
    }
  });

  test("a report sent twice is applied once", async () => {
    await using home = tempDir();
    await using hub = await startHub(home.path);
    const devices = await fleetOf(hub.brokerUrl, 2);
    try {
      await waitUntil(() => hub.registry.devices().length === 2);
      const rollout = await publish(hub, onnxFile(home.path), { waves: [1], max_failures: 0.5 });
      await waitUntil(() => devices.every((device) => device.announcements.length === 1));
      const [a, b] = devices;
      const failure = await a!.otaReport(a!.announcements[0]!, "failed", "disk full");
      await a!.report(failure);
      await a!.report(failure);
      const state = async () => (await api(hub, "GET", `/v1/fleet/rollouts/${rollout.id}`)).json;
      await waitUntil(async () => (await state()).counts.failed === 1);
      await b!.otaReport(b!.announcements[0]!, "activated");
      await waitUntil(async () => (await state()).state === "completed");
      // Counted once, the rollout stayed within 50%; the duplicates were seen and dropped.
      expect((await state()).counts).toMatchObject({ failed: 1, activated: 1 });
      const metrics = await (await fetch(`${hub.url}/metrics`)).text();
      expect(metrics).toContain('edgetrain_hub_reports_total{kind="ota",duplicate="yes"} 2');
    } finally {
      await Promise.all(devices.map((device) => device.close()));
    }
  });
});

describe("hub rollouts over time", () => {
  test("a group's rollback steps back from what it runs, rolled out to it by any rollout", async () => {
    await using home = tempDir();
    await using hub = await startHub(home.path);
    const labA = await playDevice(hub.brokerUrl, "a-1", { groups: ["lab-a"] });
    const labB = await playDevice(hub.brokerUrl, "b-1", { groups: ["lab-b"] });
    try {
      await waitUntil(() => hub.registry.devices().length === 2);
      const file = onnxFile(home.path);
      await publish(hub, file, { group: "lab-a", waves: [1] });
      await publish(hub, file, { waves: [1] });
      await publish(hub, file, { waves: [1] });
      // v4 went to lab-b alone: lab-a runs v3, from the last rollout to every device.
      await publish(hub, file, { group: "lab-b", waves: [1] });
      await waitUntil(() => labA.announcements.length === 3 && labB.announcements.length === 3);
      const back = await api(hub, "POST", "/v1/fleet/rollbacks", { model: "player_1", group: "lab-a" });
      expect(back.json).toMatchObject({ kind: "rollback", version: 2, device_group: "lab-a" });
      await waitUntil(() => labA.announcements.length === 4);
      expect(labA.announcements[3]).toMatchObject({ version: 2, rollout: back.json.id });
      const again = await api(hub, "POST", "/v1/fleet/rollbacks", { model: "player_1", group: "lab-a" });
      expect(again.json).toMatchObject({ version: 1 });
      const labBack = await api(hub, "POST", "/v1/fleet/rollbacks", { model: "player_1", group: "lab-b" });
      expect(labBack.json).toMatchObject({ kind: "rollback", version: 3 });
    } finally {
      await Promise.all([labA.close(), labB.close()]);
    }
  });

  test("a rollback supersedes the running rollout; a restarted hub announces the rollback again", async () => {
    await using home = tempDir();
    let hub = await startHub(home.path);
    const file = onnxFile(home.path);
    let device = await playDevice(hub.brokerUrl, "orin-1");
    try {
      await waitUntil(() => hub.registry.devices().length === 1);
      const v1 = await publish(hub, file, { waves: [1] });
      await waitUntil(() => device.announcements.length === 1);
      await device.otaReport(device.announcements[0]!, "activated");
      const v2 = await publish(hub, file, { waves: [1] });
      await waitUntil(() => device.announcements.length === 2);
      const back = await api(hub, "POST", "/v1/fleet/rollbacks", { model: "player_1" });
      expect(back.json).toMatchObject({ kind: "rollback", version: v1.version });
      await waitUntil(() => device.announcements.length === 3);
      const older = (await api(hub, "GET", `/v1/fleet/rollouts/${v2.id}`)).json;
      expect(older.state).toBe("completed");
      expect(older.devices).toEqual([
        expect.objectContaining({ state: "cancelled", reason: `superseded by rollout ${back.json.id}` }),
      ]);

      // The embedded broker lives in memory: the hub's next start announces what waits again, newest last.
      await device.close();
      await hub.stop();
      hub = await startHub(home.path);
      device = await playDevice(hub.brokerUrl, "orin-1");
      await waitUntil(() => device.announcements.length === 1);
      expect(device.announcements[0]).toMatchObject({ rollout: back.json.id, version: 1 });
    } finally {
      await device.close();
      await hub.stop();
    }
  });

  test("a restarted hub announces again to a halted wave's silent devices, and no further wave", async () => {
    await using home = tempDir();
    let hub = await startHub(home.path);
    let devices = await fleetOf(hub.brokerUrl, 4);
    try {
      await waitUntil(() => hub.registry.devices({ registered: true }).length === 4);
      const rollout = await publish(hub, onnxFile(home.path), { waves: [0.75, 1], max_failures: 0.25 });
      const state = async () => (await api(hub, "GET", `/v1/fleet/rollouts/${rollout.id}`)).json;
      await waitUntil(() => devices.slice(0, 3).every((device) => device.announcements.length === 1));
      const [first, second, third] = devices.slice(0, 3).map((device) => device.announcements[0]!);
      await devices[0]!.otaReport(first!, "failed", "download: connection reset");
      await waitUntil(async () => (await state()).state === "halted");

      // The embedded broker lived in memory: the restarted hub gives the silent devices their announcement again.
      await Promise.all(devices.map((device) => device.close()));
      await hub.stop();
      hub = await startHub(home.path);
      devices = await fleetOf(hub.brokerUrl, 4);
      const [a, b, c, d] = devices;
      await waitUntil(() => b!.announcements.length === 1 && c!.announcements.length === 1);
      expect(b!.announcements).toEqual([second!]);
      expect(c!.announcements).toEqual([third!]);
      expect(await state()).toMatchObject({ state: "halted", wave: 1, counts: { announced: 2, waiting: 1 } });

      // Their late reports, and the failed device's on a retry, make a resume possible.
      await b!.otaReport(b!.announcements[0]!, "activated");
      await c!.otaReport(c!.announcements[0]!, "activated");
      const { rollout: id, model, version } = first!;
      const retry = { kind: "ota", id: "dev-00-retry", device: "dev-00", at: new Date().toISOString() } as const;
      await a!.report({ ...retry, rollout: id, model, version, outcome: "activated" });
      await waitUntil(async () => (await state()).counts.activated === 3);
      expect(a!.announcements).toEqual([]);
      expect(d!.announcements).toEqual([]);
      expect((await api(hub, "POST", `/v1/fleet/rollouts/${rollout.id}/resume`)).json).toMatchObject({ wave: 2 });
      await waitUntil(() => d!.announcements.length === 1);
    } finally {
      await Promise.all(devices.map((device) => device.close()));
      await hub.stop();
    }
  });

  test("a restarted hub announces again no version older than the one a device took since", async () => {
    await using home = tempDir();
    await using hub = await startHub(home.path);
    const [a, b] = await fleetOf(hub.brokerUrl, 2);
    try {
      await waitUntil(() => hub.registry.devices({ registered: true }).length === 2);
      const file = onnxFile(home.path);
      const v1 = await publish(hub, file, { waves: [1], max_failures: 0 });
      await waitUntil(() => a!.announcements.length === 1 && b!.announcements.length === 1);
      await a!.otaReport(a!.announcements[0]!, "failed", "disk full");
      await waitUntil(() => hub.rollouts.get(v1.id)?.state === "halted");
      const v2 = await publish(hub, file, { waves: [1] });
      await waitUntil(() => a!.announcements.length === 2 && b!.announcements.length === 2);
      await b!.otaReport(b!.announcements[1]!, "activated");
      await waitUntil(() => hub.rollouts.get(v2.id)?.counts.activated === 1);
      // What the hub publishes when a broker lost its retained messages: b's version 1 would take it back.
      const again = hub.rollouts.republish().map(({ device, rollout }) => ({ device, rollout }));
      expect(again).toEqual([{ device: "dev-00", rollout: v2.id }]);
    } finally {
      await Promise.all([a!.close(), b!.close()]);
    }
  });

  test("a newer rollout takes its devices from a halted one, which resumed announces nothing to them", async () => {
    await using home = tempDir();
    await using hub = await startHub(home.path);
    const [a, b] = await fleetOf(hub.brokerUrl, 2);
    try {
      await waitUntil(() => hub.registry.devices({ registered: true }).length === 2);
      const file = onnxFile(home.path);
      const v1 = await publish(hub, file, { waves: [0.5, 1], max_failures: 0 });
      await waitUntil(() => a!.announcements.length === 1);
      await a!.otaReport(a!.announcements[0]!, "failed", "download: connection reset");
      await waitUntil(() => hub.rollouts.get(v1.id)?.state === "halted");
      const v2 = await publish(hub, file, { waves: [1] });
      await waitUntil(() => a!.announcements.length === 2 && b!.announcements.length === 1);
      await b!.otaReport(b!.announcements[0]!, "activated");
      expect(hub.rollouts.targets(v1.id)).toEqual([
        expect.objectContaining({ device: "dev-00", state: "failed" }),
        expect.objectContaining({ device: "dev-01", state: "cancelled", reason: `superseded by rollout ${v2.id}` }),
      ]);
      // A late success on v1 lets a person resume it: dev-01, on version 2 now, must not be taken back to 1.
      const retry = { kind: "ota", id: "dev-00-retry", device: "dev-00", at: new Date().toISOString() } as const;
      await a!.report({ ...retry, rollout: v1.id, model: "player_1", version: 1, outcome: "activated" });
      await waitUntil(() => hub.rollouts.get(v1.id)?.counts.activated === 1);
      expect((await api(hub, "POST", `/v1/fleet/rollouts/${v1.id}/resume`)).json.state).toBe("completed");
      expect(b!.announcements).toHaveLength(1);
    } finally {
      await Promise.all([a!.close(), b!.close()]);
    }
  });
});
