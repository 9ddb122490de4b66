import { beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { writeAthletes } from "../../runtime/demo/athletes.ts";
import { httpRoutes } from "../../runtime/fleet/protocol.ts";
import { generateHubKey, signMessage } from "../../runtime/fleet/signing.ts";
import { tempDir, waitUntil } from "../helpers.ts";
import { ATHLETES, trainedModels } from "../serving/fixture.ts";
import { announcementOf, fileFacts, fleetDaemon } from "./hub-double.ts";

const MODEL = "activity-player_1";
const API_KEY = "fleet-key-0123456789";

let models: Awaited<ReturnType<typeof trainedModels>>;
const trainDir = tempDir("edgetrain-fleet-models-");
beforeAll(async () => {
  models = await trainedModels(trainDir.path);
}, 120_000);

/** The hub's HTTP routes as such backends shape them, with the bytes of one model file to download. */
function fakeHub(file: Uint8Array) {
  const seen: Array<{ path: string; authorized: boolean; body: Record<string, unknown> }> = [];
  const pending: { announcements: unknown[]; commands: unknown[] } = { announcements: [], commands: [] };
  let down = false;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const path = new URL(request.url).pathname;
      if (path === "/files/model.onnx") return new Response(file);
      if (down) return new Response("unavailable", { status: 503 });
      const authorized = request.headers.get("authorization") === `Bearer ${API_KEY}`;
      const body = (await request.json()) as Record<string, unknown>;
      seen.push({ path, authorized, body });
      if (!authorized) return new Response("unauthorized", { status: 401 });
      if (path.endsWith("/heartbeat")) {
        const answer = { pending: pending.announcements, commands: pending.commands };
        pending.commands = [];
        return Response.json(answer);
      }
      return Response.json({ ok: true });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    seen,
    pending,
    setDown: (value: boolean) => (down = value),
    of: (path: string) => seen.filter((s) => s.path === path),
    stop: () => server.stop(true),
  };
}

describe("device agent: HTTP transport", () => {
  test("registers, heartbeats, applies what the heartbeat answers bring, and confirms it", async () => {
    await using dir = tempDir();
    const home = join(dir.path, "home");
    writeAthletes(join(home, "data/athletes"), ATHLETES);
    const good = fileFacts(models.good.artifact);
    const hub = fakeHub(good.bytes);
    const key = generateHubKey().keys;
    const daemon = await fleetDaemon(home, {
      device_id: "http-1",
      transport: "http",
      url: hub.url,
      api_key: API_KEY,
      heartbeat_interval: "200ms",
      trust: [key.publicKey],
    });
    const reports = () => hub.of(httpRoutes.reports("http-1")).map((s) => s.body);
    try {
      await waitUntil(
        () => hub.of(httpRoutes.register).length >= 1 && hub.of(httpRoutes.heartbeat("http-1")).length >= 1,
      );
      expect(hub.seen.every((s) => s.authorized)).toBe(true);
      expect(hub.of(httpRoutes.register)[0]!.body).toMatchObject({ device: "http-1", models: [] });

      const meta = {
        feature_names: models.good.metadata!.feature_names as string[],
        classes: models.good.metadata!.classes as string[],
      };
      hub.pending.announcements.push(
        signMessage(announcementOf("http-1", MODEL, 1, good, `${hub.url}/files/model.onnx`, meta), key),
      );
      await waitUntil(() => reports().some((r) => r.kind === "ota" && r.outcome === "activated"));

      // The hub lists the update until it has seen the report: the device applies it once.
      await waitUntil(() => hub.of(httpRoutes.heartbeat("http-1")).length >= 8, 20_000);
      expect(reports().filter((r) => r.kind === "ota").length).toBe(1);

      hub.setDown(true);
      hub.pending.commands.push(
        signMessage(
          {
            type: "command",
            id: "logs-1",
            device: "http-1",
            command: "logs",
            args: { lines: 2 },
            issued_at: new Date().toISOString(),
            expires_at: new Date(Date.now() + 60_000).toISOString(),
          },
          key,
        ),
      );
      await Bun.sleep(500);
      const registrations = hub.of(httpRoutes.register).length;
      hub.setDown(false);
      // Back: registered again, the command run and its result confirmed.
      await waitUntil(() => reports().some((r) => r.kind === "command" && r.command_id === "logs-1"));
      expect(reports().find((r) => r.command_id === "logs-1")).toMatchObject({ ok: true, command: "logs" });
      await waitUntil(() => hub.of(httpRoutes.register).length > registrations);
    } finally {
      await daemon.stop();
      hub.stop();
    }
  }, 60_000);
});
