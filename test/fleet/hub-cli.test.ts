import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../db-servers.ts";
import { bun, cli, runCli, tempDir, waitUntil } from "../helpers.ts";
import { onnxFile } from "./hub-fixture.ts";
import { playDevice } from "./play-device.ts";

/** `edgetrain hub` as a real process on free ports; its first stdout line is its address. */
async function startHubProcess(home: string, flags?: string[]) {
  const ports = flags ?? ["--port", "0", "--broker-port", String(await freePort())];
  const proc = Bun.spawn([bun, cli, "hub", "--home", home, ...ports], {
    env: { PATH: process.env.PATH, HOME: home, NO_COLOR: "1" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const reader = proc.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`hub exited: ${await new Response(proc.stderr).text()}`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const address = JSON.parse(text.split("\n")[0]!) as { url: string; broker: string; public_key: string };
  return { proc, ...address };
}

describe("edgetrain hub and edgetrain fleet", () => {
  test("the hub: section of the hub home's profile sets what no flag does; a bad one stops the hub", async () => {
    await using home = tempDir();
    const hubHome = join(home.path, "hub");
    mkdirSync(hubHome);
    const [port, brokerPort] = [await freePort(), await freePort()];
    writeFileSync(join(hubHome, "profile.yaml"), `hub:\n  port: ${port}\n  broker_port: ${brokerPort}\n`);
    const stop = async (hub: Awaited<ReturnType<typeof startHubProcess>>) => {
      expect((await fetch(`${hub.url}/health`)).status).toBe(200);
      hub.proc.kill("SIGTERM");
      expect(await hub.proc.exited).toBe(0);
    };
    const fromProfile = await startHubProcess(hubHome, []);
    await stop(fromProfile);
    expect(fromProfile.url).toBe(`http://127.0.0.1:${port}`);
    expect(fromProfile.broker).toBe(`mqtt://127.0.0.1:${brokerPort}`);
    const flagged = await startHubProcess(hubHome, ["--port", "0"]);
    await stop(flagged);
    expect(flagged.url).not.toBe(`http://127.0.0.1:${port}`);

    writeFileSync(join(hubHome, "profile.yaml"), "hub:\n  keep_days: 0\n  database: mysql://db\n");
    const refused = await runCli(["hub", "--home", hubHome], { home: home.path });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain("hub.keep_days");
    expect(refused.stderr).toContain("hub.database");
  }, 60_000);

  test("hub key prints the public half, made once with mode 0600", async () => {
    await using home = tempDir();
    const hubHome = join(home.path, "hub");
    const first = await runCli(["hub", "key", "--home", hubHome], { home: home.path });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^ed25519:[A-Za-z0-9+/]{43}=\n$/);
    expect(statSync(join(hubHome, "hub.key")).mode & 0o777).toBe(0o600);
    // A new key is said to be new: a typo in --home would otherwise hand devices a key no hub signs with.
    expect(first.stderr).toContain(`no hub has run in ${hubHome}: made a new hub key there`);
    const again = await runCli(["hub", "key", "--home", hubHome, "--json"], { home: home.path });
    expect(JSON.parse(again.stdout)).toEqual({ public_key: first.stdout.trim() });
    expect(again.stderr).toBe("");
  });

  test("publish, rollback and the fleet tables talk to the running hub of the home", async () => {
    await using home = tempDir();
    const hubHome = join(home.path, "hub");
    const hub = await startHubProcess(hubHome);
    const device = await playDevice(hub.broker, "orin-1", { groups: ["lab"] });
    try {
      const model = onnxFile(home.path);
      const devices = async () => (await runCli(["fleet", "devices", "--home", hubHome], { home: home.path })).stdout;
      await waitUntil(async () => (await devices()).includes("orin-1"));
      expect(await devices()).toMatch(
        new RegExp(
          String.raw`DEVICE\s+NAME\s+GROUPS\s+STATE\s+HEARTBEAT\s+MODELS\n` +
            String.raw`orin-1\s+orin-1\.lab\s+lab\s+online\s+never\s+player_1 v1`,
        ),
      );

      const published = await runCli(
        ["hub", "publish", "player_1", model, "--home", hubHome, "--group", "lab", "--waves", "100%"],
        { home: home.path },
      );
      expect(published.stderr).toBe("");
      expect(published.stdout).toMatch(
        new RegExp(
          String.raw`^rollout (r-[0-9a-f]+): player_1 v1 \(\d+ bytes, sha256 [0-9a-f]{12}…\) ` +
            String.raw`to 1 device\(s\) of group lab in waves 100%`,
        ),
      );
      const id = /rollout (r-[0-9a-f]+)/.exec(published.stdout)![1]!;
      await waitUntil(() => device.announcements.length === 1);
      await device.otaReport(device.announcements[0]!, "activated");
      const shown = async () => (await runCli(["fleet", "rollout", id, "--home", hubHome], { home: home.path })).stdout;
      await waitUntil(async () => (await shown()).includes("completed"));
      expect(await shown()).toContain("progress  [████████████████████] 1/1 reported");
      const list = await runCli(["fleet", "rollouts", "--home", hubHome, "--json"], { home: home.path });
      expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ id, state: "completed", model: "player_1" })]);

      const second = await runCli(
        ["hub", "publish", "player_1", model, "--home", hubHome, "--group", "lab", "--waves", "100%", "--json"],
        { home: home.path },
      );
      expect(JSON.parse(second.stdout)).toMatchObject({ version: 2 });
      await waitUntil(() => device.announcements.length === 2);
      const back = await runCli(["hub", "rollback", "player_1", "--home", hubHome, "--group", "lab"], {
        home: home.path,
      });
      expect(back.stdout).toMatch(/^rollout r-[0-9a-f]+: player_1 back to v1 on group lab/);
      await waitUntil(() => device.announcements.length === 3);
      expect(device.announcements[2]).toMatchObject({ version: 1, sha256: device.announcements[0]!.sha256 });

      // Hub v1 kept as the device's v6 (a local version took 1), beside a model trained there: by the hub's number.
      const models = { player_1: { version: 6, fleet_version: 1 }, coach: { version: 2, fleet_version: null } };
      await device.heartbeat({ models });
      await waitUntil(async () => (await devices()).includes("coach local v2, player_1 v1"));
      const onV1 = await runCli(["fleet", "devices", "--model", "player_1", "--version", "1", "--home", hubHome], {
        home: home.path,
      });
      expect(onV1.stdout).toContain("orin-1");
      const detail = await runCli(["fleet", "device", "orin-1", "--home", hubHome], { home: home.path });
      expect(detail.stdout).toMatch(/models {4}coach local v2; player_1 v1 \(local v6\)\n/);
      expect(detail.stdout).toContain("state     online");
      expect(detail.stdout).toMatch(/ROLLOUT\s+MODEL\s+VERSION\s+STATE/);
      const missing = await runCli(["fleet", "device", "ghost", "--home", hubHome], { home: home.path });
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('no device "ghost"');
      const token = readFileSync(join(hubHome, "hub.token"), "utf8").trim();
      const byUrl = await runCli(["fleet", "devices", "--url", hub.url, "--token", token, "--json"], {
        home: home.path,
      });
      expect(JSON.parse(byUrl.stdout)).toEqual([expect.objectContaining({ id: "orin-1", online: true })]);
    } finally {
      await device.close();
      hub.proc.kill("SIGTERM");
      expect(await hub.proc.exited).toBe(0);
      const log = await new Response(hub.proc.stderr).text();
      expect(log).toContain("hub running");
      expect(log).not.toContain("DeprecationWarning");
    }
  }, 60_000);

  test("a publish refused for its targets stores nothing; rollback skips versions never rolled out", async () => {
    await using home = tempDir();
    const hubHome = join(home.path, "hub");
    const hub = await startHubProcess(hubHome);
    const device = await playDevice(hub.broker, "orin-1", { groups: ["lab-a"] });
    const cli = (...args: string[]) => runCli([...args, "--home", hubHome], { home: home.path });
    const token = () => readFileSync(join(hubHome, "hub.token"), "utf8").trim();
    const versions = async () =>
      ((await (await fetch(`${hub.url}/v1/fleet/models`)).json()) as { models: Array<{ version: number }> }).models
        .map((model) => model.version)
        .sort();
    try {
      const model = onnxFile(home.path);
      await waitUntil(async () => (await cli("fleet", "devices")).stdout.includes("orin-1"));
      for (const expected of [1, 2]) {
        const published = await cli("hub", "publish", "m", model, "--group", "lab-a", "--waves", "100%");
        expect(published.stdout).toContain(`m v${expected}`);
        await waitUntil(() => device.announcements.length === expected);
        await device.otaReport(device.announcements.at(-1)!, "activated");
      }
      const refused = await cli("hub", "publish", "m", model, "--group", "nosuch");
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain("no device in group nosuch");
      expect(await versions()).toEqual([1, 2]);
      expect(existsSync(join(hubHome, "models", "m", "3.onnx"))).toBe(false);

      // A version stored but never rolled out (a publish killed between its two calls) is no step back either.
      const upload = await fetch(`${hub.url}/v1/fleet/models/m`, {
        method: "POST",
        headers: { authorization: `Bearer ${token()}` },
        body: readFileSync(model),
      });
      expect(((await upload.json()) as { version: number }).version).toBe(3);
      const back = await cli("hub", "rollback", "m", "--group", "lab-a");
      expect(back.stdout).toMatch(/^rollout r-[0-9a-f]+: m back to v1 on group lab-a/);
      await waitUntil(() => device.announcements.length === 3);
      expect(device.announcements[2]).toMatchObject({ model: "m", version: 1 });
      const nothing = await cli("hub", "rollback", "m", "--group", "lab-b");
      expect(nothing.code).toBe(1);
      expect(nothing.stderr).toContain("model m was never rolled out to group lab-b");
    } finally {
      await device.close();
      hub.proc.kill("SIGTERM");
      expect(await hub.proc.exited).toBe(0);
    }
  }, 60_000);

  test("a --broker that is not an MQTT URL is a usage error", async () => {
    await using home = tempDir();
    const answer = await runCli(["hub", "--home", join(home.path, "hub"), "--broker", "http://broker.lab"], {
      home: home.path,
    });
    expect(answer.code).toBe(2);
    expect(answer.stderr).toContain("--broker http://broker.lab: expected mqtt:// or mqtts://");
  });

  test("fleet without a running hub says how to start one", async () => {
    await using home = tempDir();
    const answer = await runCli(["fleet", "devices", "--home", join(home.path, "hub")], { home: home.path });
    expect(answer.code).toBe(1);
    expect(answer.stderr).toContain("no hub runs on");
    expect(answer.stderr).toContain("edgetrain hub --home");
  });
});
