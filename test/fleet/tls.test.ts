import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import mqtt from "mqtt";
import { topics } from "../../runtime/fleet/protocol.ts";
import { tempDir } from "../helpers.ts";
import { fleetDaemon } from "./hub-double.ts";
import { startMosquitto } from "./mosquitto.ts";

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl in `dir`. */
function certificates(dir: string) {
  const run = (...args: string[]) => {
    const done = Bun.spawnSync(["openssl", ...args], { cwd: dir, stderr: "pipe" });
    if (done.exitCode !== 0) throw new Error(`openssl ${args[0]}: ${done.stderr.toString()}`);
  };
  run(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=test-ca",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
  );
  for (const [name, cn, ext] of [
    ["server", "127.0.0.1", "subjectAltName=IP:127.0.0.1"],
    ["client", "tls-1", "extendedKeyUsage=clientAuth"],
  ] as const) {
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${cn}`, "-keyout", `${name}.key`, "-out", `${name}.csr`);
    writeFileSync(join(dir, `${name}.ext`), `${ext}\n`);
    run(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "2",
      "-extfile",
      `${name}.ext`,
      "-out",
      `${name}.pem`,
    );
  }
  return { ca: join(dir, "ca.pem"), cert: join(dir, "client.pem"), key: join(dir, "client.key"), dir };
}

describe("device agent over mqtts", () => {
  test("connects with the profile's CA and client certificate to a broker that requires them", async () => {
    await using dir = tempDir();
    const certs = certificates(dir.path);
    // Copied into the broker's own folder: Mosquitto, dropped to its user, cannot read the test's.
    const serverFiles = Object.fromEntries(
      ["ca.pem", "server.pem", "server.key"].map((name) => [name, readFileSync(join(certs.dir, name), "utf8")]),
    );
    await using broker = await startMosquitto({
      tls: true,
      files: serverFiles,
      config: [
        "cafile ${dir}/ca.pem",
        "certfile ${dir}/server.pem",
        "keyfile ${dir}/server.key",
        "require_certificate true",
      ],
    });
    const url = broker.url;
    const tls = { ca: readFileSync(certs.ca), cert: readFileSync(certs.cert), key: readFileSync(certs.key) };
    const hub = await mqtt.connectAsync(url, { ...tls, clientId: "hub-tls", reconnectPeriod: 0 });
    const statuses: string[] = [];
    hub.on("message", (_topic, payload) => statuses.push((JSON.parse(payload.toString()) as { state: string }).state));
    await hub.subscribeAsync(topics.status("tls-1"), { qos: 1 });
    const home = join(dir.path, "home");
    const daemon = await fleetDaemon(home, {
      device_id: "tls-1",
      broker: url,
      ca: certs.ca,
      cert: certs.cert,
      key: certs.key,
    });
    try {
      const deadline = Date.now() + 20_000;
      while (!statuses.includes("online") && Date.now() < deadline) await Bun.sleep(25);
      expect(statuses).toContain("online");
    } finally {
      await daemon.stop();
      await hub.endAsync(true);
    }
  }, 60_000);
});
