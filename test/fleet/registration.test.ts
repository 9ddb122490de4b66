import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { derivedDeviceId } from "../../runtime/fleet/agent/identity.ts";
import { HEARTBEAT_MAX_BYTES } from "../../runtime/fleet/protocol.ts";
import { startDaemonProcess, tempDir } from "../helpers.ts";
import { fleetDaemon, hubDouble } from "./hub-double.ts";
import { startMosquitto } from "./mosquitto.ts";

describe("device agent: registration, heartbeat, offline", () => {
  test("registers with retained info, sends heartbeats of at most 2 KB, and says offline when it stops", async () => {
    await using broker = await startMosquitto();
    await using dir = tempDir();
    const hub = await hubDouble(broker.url);
    const daemon = await fleetDaemon(dir.path, {
      device_id: "lab-1",
      location: "lab A",
      groups: ["orin", "lab-a"],
      broker: broker.url,
      heartbeat_interval: "200ms",
      trust: [hub.key.publicKey],
    });
    try {
      await hub.waitFor(() => hub.of("heartbeat", "lab-1").length >= 2 && hub.of("info", "lab-1").length >= 1);
      const status = hub.of("status", "lab-1").at(-1)!;
      expect(status.body).toMatchObject({ device: "lab-1", state: "online" });
      const info = hub.of("info", "lab-1")[0]!;
      expect(info.body).toMatchObject({
        device: "lab-1",
        location: "lab A",
        groups: ["orin", "lab-a"],
        profile: "profile",
        models: [],
      });
      const hardware = info.body!.hardware as Record<string, Record<string, unknown>>;
      expect(hardware.cpu!.cores).toBeGreaterThan(0);
      expect(hardware.os!.kernel).toBeString();
      expect(hardware.check).toMatchObject({ glibc: expect.any(Object), onnxruntime: expect.any(Object) });
      const beats = hub.of("heartbeat", "lab-1").map((h) => h.body!);
      expect(beats[1]!.seq).toBe((beats[0]!.seq as number) + 1);
      for (const beat of beats)
        expect(Buffer.byteLength(JSON.stringify(beat))).toBeLessThanOrEqual(HEARTBEAT_MAX_BYTES);
      // No GPU on this machine: the reading is absent, not 0.
      expect("gpu_ratio" in beats.at(-1)!).toBe(false);

      // A late subscriber (the hub restarted) still finds the device's info and status: both are retained.
      const late = await hubDouble(broker.url, hub.key);
      await late.waitFor(
        () => late.of("info", "lab-1").some((h) => h.retain) && late.of("status", "lab-1").some((h) => h.retain),
      );
      await late.close();
    } finally {
      await daemon.stop();
    }
    await hub.waitFor(() => hub.of("status", "lab-1").at(-1)?.body?.state === "offline");
    await hub.close();
  }, 60_000);

  test("the broker password and credentials in the broker URL stay out of the log", async () => {
    await using broker = await startMosquitto();
    await using dir = tempDir();
    const hub = await hubDouble(broker.url);
    const withCredentials = broker.url.replace("mqtt://", "mqtt://lab-3:url-s3cret@");
    const fleet = { device_id: "lab-3", broker: withCredentials, password: "hunter2-broker" };
    const daemon = await fleetDaemon(dir.path, fleet);
    try {
      await hub.waitFor(() => hub.of("status", "lab-3").at(-1)?.body?.state === "online");
    } finally {
      await daemon.stop();
      await hub.close();
    }
    const log = readFileSync(join(dir.path, "logs/edgetrain.log"), "utf8");
    expect(log).toContain("connected to the fleet broker");
    expect(log).not.toContain("url-s3cret");
    expect(log).not.toContain("hunter2");
  }, 60_000);

  test("a device that vanishes is marked offline by the broker's last will", async () => {
    await using broker = await startMosquitto();
    await using dir = tempDir();
    const hub = await hubDouble(broker.url);
    const profile = dir.write(
      "profile.yaml",
      `paths: { home: ${join(dir.path, "home")} }\n` +
        `fleet: { device_id: lab-2, broker: "${broker.url}", heartbeat_interval: 1s }\n`,
    );
    const { proc } = await startDaemonProcess(dir.path, ["--headless", "--profile", profile]);
    try {
      await hub.waitFor(() => hub.of("status", "lab-2").at(-1)?.body?.state === "online");
      proc.kill("SIGKILL");
      await proc.exited;
      await hub.waitFor(() => hub.of("status", "lab-2").at(-1)?.body?.state === "offline");
      expect(hub.of("status", "lab-2").at(-1)!.body).toMatchObject({ device: "lab-2", state: "offline" });
    } finally {
      proc.kill("SIGKILL");
      await hub.close();
    }
  }, 60_000);

  test("a reload that changes the fleet section restarts the agent; the daemon goes on", async () => {
    await using broker = await startMosquitto();
    await using dir = tempDir();
    const hub = await hubDouble(broker.url);
    const daemon = await fleetDaemon(dir.path, { device_id: "before", broker: broker.url });
    try {
      await hub.waitFor(() => hub.of("status", "before").at(-1)?.body?.state === "online");
      const profile = join(dir.path, "profile.yaml");
      writeFileSync(profile, readFileSync(profile, "utf8").replace('"before"', '"after"'));
      expect(await daemon.reload()).toBe(true);
      await hub.waitFor(() => hub.of("status", "after").at(-1)?.body?.state === "online");
      expect(hub.of("status", "before").at(-1)!.body!.state).toBe("offline");
      expect((await fetch(`${daemon.address().url}/health`)).status).toBe(200);
    } finally {
      await daemon.stop();
      await hub.close();
    }
  }, 60_000);

  test("the default device id is derived from /etc/machine-id and stays the same", async () => {
    await using dir = tempDir();
    dir.write("etc/machine-id", "4c4c4544003610548030b4c04f5a3732\n");
    const id = derivedDeviceId(dir.path);
    expect(id).toMatch(/^dev-[0-9a-f]{20}$/);
    expect(derivedDeviceId(dir.path)).toBe(id);
    expect(id).not.toContain("4c4c4544");
    dir.write("etc/machine-id", "ffffffffffffffffffffffffffffffff\n");
    expect(derivedDeviceId(dir.path)).not.toBe(id);
  });
});
