import { afterEach, describe, expect, test } from "bun:test";
import * as v from "valibot";
import * as answers from "../../runtime/api/fleet-response-schemas.ts";
import { createHubApp } from "../../runtime/fleet/hub/hub-app.ts";
import { request } from "../api/fake-daemon.ts";
import {
  type Document,
  operationProblems,
  tokenRules,
  undeclaredPathParameters,
  validate,
} from "../api/openapi-checks.ts";
import { tempDir, waitUntil } from "../helpers.ts";
import { api, onnxFile, startHub } from "./hub-fixture.ts";
import { playDevice } from "./play-device.ts";

const warn = console.warn;
afterEach(() => void (console.warn = warn));

describe("the hub's GET /openapi", () => {
  test("is a valid OpenAPI 3.1 document of every route, with the same checks as the daemon's", async () => {
    await using home = tempDir();
    await using hub = await startHub(home.path);
    const warnings: string[] = [];
    console.warn = (...args: unknown[]) => void warnings.push(args.map(String).join(" "));
    const app = createHubApp(hub);
    const response = await app.handle(request("GET", "/openapi"));
    expect(response.status).toBe(200);
    const doc = (await response.json()) as Document;
    expect(warnings).toEqual([]);
    expect(doc.openapi).toStartWith("3.1.");
    await validate(doc);
    expect(undeclaredPathParameters(doc)).toEqual([]);
    expect(operationProblems(doc)).toEqual([]);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/v1/fleet/devices",
        "/v1/fleet/devices/{id}",
        "/v1/fleet/models/{name}/scores",
        "/v1/fleet/rollouts/{id}/{action}",
        "/v1/fleet/commands",
        "/api/v1/edge-devices/{device}/heartbeat",
        "/v1/fleet/files/{model}/{version}",
        "/metrics",
      ]),
    );
    expect(doc.components.securitySchemes).toMatchObject({
      bearer: { type: "http", scheme: "bearer" },
      device: { type: "http", scheme: "bearer" },
      download: { type: "apiKey", in: "query", name: "token" },
    });
    // Device routes need the device key or a download token, never the API token; the document says which.
    expect(doc.paths["/api/v1/edge-devices/register"]!.post!.security).toEqual([{ device: [] }]);
    const { said, done } = await tokenRules(
      doc,
      (method, path) => app.handle(request(method, path, { body: method === "GET" ? undefined : {} })),
      "1",
    );
    expect(said).toEqual(done);
  });

  test("what the routes answer fits the schemas the document is made from", async () => {
    await using home = tempDir();
    await using hub = await startHub(home.path);
    const device = await playDevice(hub.brokerUrl, "dev-1", { groups: ["lab"] });
    try {
      await device.heartbeat({ models: { player_1: { version: 1, metrics: { accuracy: 0.9 } } } });
      await waitUntil(async () => (await hub.registry.heartbeatCount("dev-1")) === 1);
      const upload = await fetch(`${hub.url}/v1/fleet/models/player_1`, {
        method: "POST",
        headers: { authorization: `Bearer ${hub.token}` },
        body: Bun.file(onnxFile(home.path)),
      });
      const backwards = await api(hub, "POST", "/v1/fleet/rollouts", { model: "player_1", waves: [0.5, 0.2] });
      expect(backwards).toMatchObject({ status: 400, json: { message: expect.stringContaining("ascending") } });
      const rollout = await api(hub, "POST", "/v1/fleet/rollouts", { model: "player_1", waves: [1] });
      await waitUntil(() => device.announcements.length === 1);
      await device.otaReport(device.announcements[0]!, "activated");
      await device.report({
        kind: "score",
        id: "score-1",
        device: "dev-1",
        at: new Date().toISOString(),
        run: "run-1",
        job: "nightly",
        model: "player_1",
        version: 1,
        rows: 3,
        files: 1,
        values: { count: 3, mean: 2, std: 0.8, min: 1, max: 3 },
        skipped: 0,
      });
      await waitUntil(() => hub.registry.scores.ofModel("player_1", { limit: 1 }).devices.length === 1);
      const command = await api(hub, "POST", "/v1/fleet/commands", { device: "dev-1", command: "logs" });
      const fits = (schema: v.GenericSchema, body: unknown) => v.safeParse(schema, body).issues ?? [];
      expect(fits(answers.FleetModelVersion, await upload.json())).toEqual([]);
      expect(fits(answers.FleetRollout, rollout.json)).toEqual([]);
      expect(fits(answers.DeviceCommand, command.json)).toEqual([]);
      const reads: Array<[v.GenericSchema, string]> = [
        [answers.FleetDeviceList, "/v1/fleet/devices"],
        [answers.FleetDeviceDetail, "/v1/fleet/devices/dev-1"],
        [answers.FleetLiveRuns, "/v1/fleet/devices/dev-1/runs"],
        [answers.FleetModelList, "/v1/fleet/models"],
        [answers.FleetModelScores, "/v1/fleet/models/player_1/scores"],
        [answers.FleetRolloutList, "/v1/fleet/rollouts"],
        [answers.FleetRolloutDetail, `/v1/fleet/rollouts/${rollout.json.id}`],
        [answers.FleetCommandState, `/v1/fleet/commands/${command.json.id}`],
        [answers.HubHealth, "/health"],
      ];
      for (const [schema, path] of reads) {
        const { status, json } = await api(hub, "GET", path);
        expect({ path, status, issues: fits(schema, json) }).toEqual({ path, status: 200, issues: [] });
      }
    } finally {
      await device.close();
    }
  });
});
