import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../db-servers.ts";
import { repoRoot, tempDir } from "../helpers.ts";
import { startMosquitto, type TestBroker } from "./mosquitto.ts";

export const SHIPPED_CONF = join(repoRoot, "deploy/mosquitto/mosquitto.conf");
export const SHIPPED_ACL = join(repoRoot, "deploy/mosquitto/acl");
const PASSWD = "/usr/bin/mosquitto_passwd";
const OPENSSL = "/usr/bin/openssl";

/** Why the shipped broker cannot be started here, or undefined when it can. */
export const shippedBrokerUnavailable = !existsSync(PASSWD)
  ? `${PASSWD} is missing (apt-get install mosquitto-clients)`
  : !existsSync(OPENSSL)
    ? `${OPENSSL} is missing, needed for the TLS listener's certificates`
    : undefined;

export interface ShippedBroker extends AsyncDisposable {
  broker: TestBroker;
  /** The CA that signed the broker's certificate, for the clients' `ca`. */
  ca: string;
  /** The plain loopback listener for trials, when it was asked for. */
  trialUrl?: string;
}

/**
 * Mosquitto running deploy/mosquitto/mosquitto.conf itself, its paths moved into the test's folder, its TLS
 * listener on a free loopback port with a fresh CA, the ACL read from deploy/mosquitto/acl, and a password
 * file made by mosquitto_passwd with these users.
 */
export async function startShippedBroker(
  users: Record<string, string>,
  options: { trialListener?: boolean } = {},
): Promise<ShippedBroker> {
  await using work = tempDir("edgetrain-mqtt-pki-");
  const run = (command: string[]) => {
    const result = Bun.spawnSync(command, { cwd: work.path, stdout: "pipe", stderr: "pipe" });
    if (result.exitCode !== 0) throw new Error(`${command.join(" ")}: ${result.stderr}`);
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  run([OPENSSL, "req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=test CA"]);
  run([OPENSSL, "req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]);
  work.write("san.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  run(
    [OPENSSL, "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial"].concat([
      "-out",
      "server.crt",
      "-days",
      "2",
      "-extfile",
      "san.ext",
    ]),
  );
  work.write("passwd", "");
  for (const [user, password] of Object.entries(users)) run([PASSWD, "-b", "passwd", user, password]);
  const read = (name: string) => readFileSync(join(work.path, name), "utf8");
  const files = { "ca.crt": read("ca.crt"), "server.crt": read("server.crt"), "server.key": read("server.key") };
  const trialPort = options.trialListener ? await freePort() : undefined;
  const broker = await startMosquitto({
    tls: true,
    files: { ...files, passwd: read("passwd") },
    conf: ({ dir, port }) => rewrite(readFileSync(SHIPPED_CONF, "utf8"), dir, port, trialPort),
  });
  return {
    broker,
    ca: files["ca.crt"],
    ...(trialPort ? { trialUrl: `mqtt://127.0.0.1:${trialPort}` } : {}),
    [Symbol.asyncDispose]: () => broker[Symbol.asyncDispose](),
  };
}

/** The shipped configuration with its system paths in `dir`. Each replaced text must be there, so that a
 * moved path fails loudly rather than pointing the test broker at /etc. */
function rewrite(conf: string, dir: string, port: number, trialPort?: number): string {
  const swaps: [string, string][] = [
    ["/etc/mosquitto/certs/", `${dir}/`],
    ["/etc/mosquitto/edgetrain/passwd", `${dir}/passwd`],
    ["/etc/mosquitto/edgetrain/acl", SHIPPED_ACL],
    ["/var/lib/mosquitto/", `${dir}/`],
    ["/var/log/mosquitto/", `${dir}/`],
    ["/run/mosquitto/", `${dir}/`],
    ["\nlistener 8883\n", `\nlistener ${port} 127.0.0.1\n`],
  ];
  if (trialPort) {
    const at = conf.indexOf("#listener 1883 127.0.0.1");
    if (at < 0) throw new Error("deploy/mosquitto/mosquitto.conf no longer has the commented trial listener");
    const trial = conf.slice(at);
    swaps.push([trial, trial.replaceAll(/^#/gm, "").replace("1883", String(trialPort))]);
  }
  for (const [from, to] of swaps) {
    if (!conf.includes(from)) throw new Error(`deploy/mosquitto/mosquitto.conf no longer has ${JSON.stringify(from)}`);
    conf = conf.replaceAll(from, to);
  }
  return conf;
}
