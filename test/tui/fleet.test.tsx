import { afterEach, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { render } from "ink-testing-library";
import { FleetApp } from "../../tui/fleet-app.tsx";
import { api, onnxFile, startHub } from "../fleet/hub-fixture.ts";
import { playDevice } from "../fleet/play-device.ts";
import { tempDir, waitUntil } from "../helpers.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

test("attached to a hub, the Fleet screen shows devices, versions, heartbeat age and rollout progress", async () => {
  await using home = tempDir();
  await using hub = await startHub(home.path);
  const orin = await playDevice(hub.brokerUrl, "orin-1");
  const nano = await playDevice(hub.brokerUrl, "nano-2");
  cleanups.push(() => orin.close());
  await waitUntil(() => hub.registry.devices({ online: true }).length === 2);
  await orin.heartbeat({ models: { player_1: { version: 3 } } });
  nano.vanish();
  await waitUntil(() => hub.registry.devices({ online: true }).length === 1);
  const upload = await fetch(`${hub.url}/v1/fleet/models/player_1`, {
    method: "POST",
    headers: { authorization: `Bearer ${hub.token}` },
    body: readFileSync(onnxFile(home.path)),
  });
  expect(upload.status).toBe(201);
  const rollout = (await api(hub, "POST", "/v1/fleet/rollouts", { model: "player_1", waves: [1] })).json;
  await waitUntil(() => orin.announcements.length === 1);
  await orin.otaReport(orin.announcements[0]!, "activated");
  // Heard in a heartbeat only, never registered: listed apart, in no rollout.
  // It runs a model trained there, which the hub has no number for: shown by its own.
  const models = { coach: { version: 2, fleet_version: null } };
  hub.intake.take("heartbeat", "ghost-3", { device: "ghost-3", at: new Date().toISOString(), seq: 1, models }, "http");

  const instance = render(<FleetApp connection={{ url: hub.url, token: hub.token }} color={false} refreshMs={100} />);
  cleanups.push(() => instance.unmount());
  const frame = () => instance.lastFrame() ?? "";
  // Devices and rollouts are separate requests: a frame may pair the rollout's progress with the device list
  // fetched just before the report, so wait for both.
  const activated = /● orin-1\s+online\s+\d+s\s+player_1 v1/;
  await waitUntil(() => frame().includes("● live") && frame().includes("[██████████") && activated.test(frame()));
  await waitUntil(() => frame().includes("ghost-3"));
  expect(frame()).toContain("Devices: 1 online · 1 offline · 1 unregistered");
  expect(frame()).toMatch(/○ ghost-3\s+unregistered\s+\d+s\s+coach local v2/);
  expect(frame()).toMatch(/○ nano-2\s+offline\s+-\s+player_1 v1/);
  expect(frame()).toContain(`${rollout.id} player_1 v1 all`);
  expect(frame()).toMatch(/running\s+wave 1\/1 \[██████████·{10}\] {2}50% 2 devices/);
});
