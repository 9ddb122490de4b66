import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";
import { freePort, userIds } from "../db-servers.ts";

export const MOSQUITTO = "/usr/sbin/mosquitto";

export interface TestBroker extends AsyncDisposable {
  url: string;
  port: number;
  dir: string;
  /** Stops the broker process (the port stays reserved for restart). */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same configuration and persistence. */
  restart(): Promise<void>;
  /** What the broker logged, for failure messages. */
  log(): string;
}

export interface BrokerOptions {
  /** Extra mosquitto.conf lines (password_file, acl_file…); paths may use `${dir}` for the broker's folder. */
  config?: string[];
  /** Files written into the broker's folder before it starts, by name. */
  files?: Record<string, string>;
  /**
   * A whole mosquitto.conf in place of the test's own (e.g. the shipped deploy/mosquitto one, rewritten
   * to `dir` and `port`); it must listen on `port` and log to `dir`/mosquitto.log. `config` lines follow it.
   */
  conf?: (place: { dir: string; port: number }) => string;
  /** The listener speaks TLS: `url` is mqtts://. */
  tls?: boolean;
}

/** A real Mosquitto on a free loopback port in a temporary folder, with persistence, for tests. */
export async function startMosquitto(options: BrokerOptions = {}): Promise<TestBroker> {
  const dir = mkdtempSync("/tmp/edgetrain-mqtt-");
  // Started as root, Mosquitto drops to its own user, which must still write its log and persistence here.
  if (process.getuid?.() === 0) {
    const { uid, gid } = userIds("mosquitto");
    if (uid > 0) chownSync(dir, uid, gid);
  }
  const port = await freePort();
  for (const [name, text] of Object.entries(options.files ?? {})) writeFileSync(join(dir, name), text);
  const base = options.conf?.({ dir, port }).split("\n") ?? [
    `listener ${port} 127.0.0.1`,
    "allow_anonymous true",
    "persistence true",
    `persistence_location ${dir}/`,
    "autosave_interval 1",
    `log_dest file ${dir}/mosquitto.log`,
    "log_type all",
  ];
  const lines = [...base, ...(options.config ?? []).map((line) => line.replaceAll("${dir}", dir))];
  // A configuration that sets allow_anonymous itself wins: Mosquitto takes the last value.
  writeFileSync(join(dir, "mosquitto.conf"), `${lines.join("\n")}\n`);
  let proc: ReturnType<typeof Bun.spawn> | undefined;
  const start = async () => {
    proc = Bun.spawn([MOSQUITTO, "-c", join(dir, "mosquitto.conf")], { stdout: "ignore", stderr: "pipe" });
    const exited = async () =>
      `mosquitto exited: ${readLog(dir)}${await new Response(proc?.stderr as ReadableStream).text()}`;
    await waitForPort(port, () => (proc?.exitCode !== null ? exited() : undefined));
  };
  const stop = async () => {
    if (!proc || proc.exitCode !== null) return;
    proc.kill("SIGTERM");
    await proc.exited;
  };
  await start();
  return {
    url: `${options.tls ? "mqtts" : "mqtt"}://127.0.0.1:${port}`,
    port,
    dir,
    stop,
    restart: async () => {
      await stop();
      await start();
    },
    log: () => readLog(dir),
    async [Symbol.asyncDispose]() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function readLog(dir: string): string {
  try {
    return readFileSync(join(dir, "mosquitto.log"), "utf8");
  } catch {
    return "";
  }
}

async function waitForPort(port: number, failed: () => Promise<string> | undefined): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const why = await failed();
    if (why) throw new Error(why);
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ port, host: "127.0.0.1" }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (open) return;
    await Bun.sleep(25);
  }
  throw new Error(`mosquitto did not listen on port ${port}`);
}
