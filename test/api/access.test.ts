import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startDaemonProcess, type TempDir, tempDir } from "../helpers.ts";

const TOKEN = "access-test-token-0123456789";

/**
 * One raw HTTP exchange over TCP: what fetch cannot send (HTTP/1.0 without Host, absolute-form, unnormalised paths).
 */
async function raw(port: number, head: string, body = ""): Promise<{ status: number; body: string }> {
  const chunks: Uint8Array[] = [];
  const { promise: closed, resolve } = Promise.withResolvers<void>();
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data: (_, data) => void chunks.push(new Uint8Array(data)),
      close: () => resolve(),
      error: () => resolve(),
    },
  });
  const bodyHeaders = body ? `content-length: ${Buffer.byteLength(body)}\r\ncontent-type: application/json\r\n` : "";
  socket.write(`${head}\r\n${bodyHeaders}connection: close\r\n\r\n${body}`);
  await closed;
  const text = Buffer.concat(chunks).toString("utf8");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
  return { status, body: text.slice(text.indexOf("\r\n\r\n") + 4) };
}

/** The routes that change something, as their canonical method and path. */
const MUTATING: Array<[string, string]> = [
  ["POST", "/v1/models/activity-player_1/activate"],
  ["POST", "/v1/models/activity-player_1/rollback"],
  ["POST", "/v1/jobs/activity/run"],
  ["DELETE", "/v1/cache"],
  ["POST", "/v1/cache/warm"],
  ["POST", "/v1/conflicts/1"],
  ["POST", "/v1/runs/1/cancel"],
];

/** Each way of writing `method path` that some layer may read differently from the router. */
function forms(method: string, path: string, port: number): string[] {
  const doubled = path.replaceAll("/", "//");
  const encoded = `/${path.slice(1).replaceAll("/", "%2F")}`;
  const mixed = path.replace(/[a-z]/g, (c, i: number) => (i % 2 ? c.toUpperCase() : c));
  return [
    `${method} ${path} HTTP/1.0`,
    `${method} ${path} HTTP/1.0\r\nhost: 127.0.0.1:${port}`,
    `${method} http://127.0.0.1:${port}${path} HTTP/1.1\r\nhost: 127.0.0.1:${port}`,
    `${method} ${path}/ HTTP/1.0`,
    `${method} ${doubled} HTTP/1.1\r\nhost: 127.0.0.1:${port}`,
    `${method} ${doubled}/ HTTP/1.0`,
    `${method} ${encoded} HTTP/1.0`,
    `${method} ${mixed} HTTP/1.0`,
    `${method} ${path}?x=1 HTTP/1.0`,
  ];
}

describe("a loopback daemon", () => {
  let dir: TempDir;
  let daemon: Awaited<ReturnType<typeof startDaemonProcess>>;

  beforeAll(async () => {
    dir = tempDir();
    const profile = dir.write("p.yaml", `api:\n  token: \${EDGETRAIN_TOKEN}\n  allowed_hosts: [edge.lan]\n`);
    daemon = await startDaemonProcess(dir.path, ["--home", dir.path, "--headless", "--profile", profile], {
      EDGETRAIN_TOKEN: TOKEN,
    });
  });
  afterAll(async () => {
    daemon.proc.kill("SIGTERM");
    await daemon.proc.exited;
    await dir[Symbol.asyncDispose]();
  });

  test("refuses every mutating route without the token, whatever the form of the request", async () => {
    const answered: string[] = [];
    for (const [method, path] of MUTATING) {
      // HEAD of a path that also reads (GET /v1/cache) is that read, and open on loopback.
      const heads = method === "POST" ? [`HEAD ${path} HTTP/1.0`] : [];
      for (const head of [...forms(method, path, daemon.listening.port), ...heads]) {
        const { status } = await raw(
          daemon.listening.port,
          head,
          method === "POST" && !head.startsWith("HEAD") ? "{}" : "",
        );
        if (status !== 401) answered.push(`${head.split("\r\n")[0]} -> ${status}`);
      }
    }
    expect(answered).toEqual([]);
  });

  test("the same forms with the token reach the route, so the refusals above are the token rule's", async () => {
    const port = daemon.listening.port;
    const withToken = (head: string) => `${head}\r\nauthorization: Bearer ${TOKEN}`;
    expect((await raw(port, withToken("DELETE /v1/cache HTTP/1.0"))).status).toBe(200);
    expect(
      (await raw(port, withToken(`DELETE http://127.0.0.1:${port}/v1/cache/ HTTP/1.1\r\nhost: 127.0.0.1`))).status,
    ).toBe(200);
    expect(
      (await raw(port, withToken("POST /v1/models/activity-player_1/activate HTTP/1.0"), '{"version": 1}')).status,
    ).toBe(404);
  });

  test("reads and predictions need no token; unknown paths are 404 and dot segments 400", async () => {
    const port = daemon.listening.port;
    expect((await raw(port, "GET /v1/status HTTP/1.0")).status).toBe(200);
    expect((await raw(port, "GET /metrics/ HTTP/1.0")).status).toBe(200);
    expect((await raw(port, "HEAD /v1/status HTTP/1.0")).status).toBe(200);
    expect((await raw(port, "POST /v1/predict/nothing HTTP/1.0", '{"inputs": [[1]]}')).status).toBe(404);
    expect((await raw(port, "GET /nothing/here HTTP/1.0")).status).toBe(404);
    const dots = await raw(port, "POST /v1/predict/../models/activity-player_1/activate HTTP/1.0", '{"version": 1}');
    expect(dots.status).toBe(400);
    expect(dots.body).toContain(". or .. segment");
    expect((await raw(port, "POST /v1/predict/x%2F..%2F..%2Fcache HTTP/1.0", "{}")).status).toBe(400);
  });

  test("a batch of api.max_rows rows of 16 features fits the default body limit", async () => {
    const row = Array.from({ length: 16 }, (_, i) => 100.123456 + i);
    const body = JSON.stringify({ inputs: Array.from({ length: 10_000 }, () => row) });
    expect(body.length).toBeGreaterThan(1024 * 1024);
    const response = await raw(daemon.listening.port, "POST /v1/predict/activity-player_1 HTTP/1.0", body);
    // Parsed and checked, then refused only because no such model exists here.
    expect([response.status, response.body]).toEqual([404, expect.stringContaining("no model")]);
  });

  test("answers only loopback names and api.allowed_hosts as Host (DNS rebinding)", async () => {
    const port = daemon.listening.port;
    const rebound = await raw(port, "GET /v1/status HTTP/1.1\r\nhost: attacker.example");
    expect(rebound.status).toBe(403);
    expect(rebound.body).toContain('Host \\"attacker.example\\" is not this daemon\'s');
    expect((await raw(port, `GET /v1/status HTTP/1.1\r\nhost: attacker.example:${port}`)).status).toBe(403);
    expect((await raw(port, "GET /health HTTP/1.1\r\nhost: 10.0.0.7")).status).toBe(403);
    for (const host of [`localhost:${port}`, "127.0.0.1", `[::1]:${port}`, "LOCALHOST", `edge.lan:${port}`]) {
      expect(`${host} -> ${(await raw(port, `GET /v1/status HTTP/1.1\r\nhost: ${host}`)).status}`).toBe(
        `${host} -> 200`,
      );
    }
  });
});

describe("a daemon on a non-loopback address", () => {
  let dir: TempDir;
  let daemon: Awaited<ReturnType<typeof startDaemonProcess>>;

  beforeAll(async () => {
    dir = tempDir();
    const profile = dir.write("p.yaml", "api:\n  token: ${EDGETRAIN_TOKEN}\n");
    daemon = await startDaemonProcess(
      dir.path,
      ["--home", dir.path, "--headless", "--profile", profile, "--host", "0.0.0.0"],
      { EDGETRAIN_TOKEN: TOKEN },
    );
  });
  afterAll(async () => {
    daemon.proc.kill("SIGTERM");
    await daemon.proc.exited;
    await dir[Symbol.asyncDispose]();
  });

  test("refuses every route but /health without the token, whatever the form of the request", async () => {
    const port = daemon.listening.port;
    const reads: Array<[string, string]> = [
      "/v1/status",
      "/v1/models",
      "/v1/jobs",
      "/v1/logs",
      "/v1/profile",
      "/v1/cache",
      "/metrics",
      "/openapi",
    ].flatMap((path) => [["GET", path] as [string, string], ["HEAD", path] as [string, string]]);
    const answered: string[] = [];
    for (const [method, path] of [
      ...reads,
      ...MUTATING,
      ["POST", "/v1/predict/activity-player_1"] as [string, string],
    ]) {
      for (const head of forms(method, path, port)) {
        const { status } = await raw(port, head, method === "POST" ? "{}" : "");
        if (status !== 401) answered.push(`${head.split("\r\n")[0]} -> ${status}`);
      }
    }
    expect(answered).toEqual([]);
    expect((await raw(port, "GET /health HTTP/1.0")).status).toBe(200);
    expect((await raw(port, `GET /v1/status HTTP/1.0\r\nauthorization: Bearer ${TOKEN}`)).status).toBe(200);
  });
});
