import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { httpRoutes } from "../../runtime/fleet/protocol.ts";
import { tempDir } from "../helpers.ts";
import { api, onnxFile, startHub } from "./hub-fixture.ts";

type Hub = Awaited<ReturnType<typeof startHub>>;

/** A POST to the hub over loopback with `bearer` and the body sent as `type` (none: no Content-Type at all). */
async function post(hub: Hub, path: string, bearer: string, type: string | undefined, body: unknown) {
  const headers: Record<string, string> = { authorization: `Bearer ${bearer}` };
  if (type !== undefined) headers["content-type"] = type;
  const response = await fetch(hub.url + path, { method: "POST", headers, body: JSON.stringify(body) });
  return { status: response.status, json: await response.json() };
}

const info = {
  device: "dev-1",
  name: "dev-1.lab",
  groups: [],
  edgetrain_version: "0.0.0-test",
  profile: "base",
  hardware: {},
  models: [],
  at: new Date().toISOString(),
};

/** What a JSON route's body sent as anything but application/json is answered: read by no route. */
const NOT_JSON = ["text/plain", "application/x-www-form-urlencoded", "APPLICATION/JSON", "application/x+json"];

describe("the hub's JSON routes take application/json only, as the daemon's do", () => {
  test("a device's messages over the HTTP transport: another type is refused (415) and nothing recorded", async () => {
    await using home = tempDir();
    await using hub = await startHub(home.path);
    const routes = [httpRoutes.register, httpRoutes.heartbeat("dev-1"), httpRoutes.reports("dev-1")];
    for (const path of routes)
      for (const type of [...NOT_JSON, undefined]) {
        const answer = await post(hub, path, hub.deviceKey, type, info);
        const found = type ? `Content-Type "${type}"` : "a body with no Content-Type";
        expect({ path, type, ...answer }).toEqual({
          path,
          type,
          status: 415,
          json: expect.objectContaining({
            code: "unsupported_media_type",
            message: `POST ${path} takes a JSON body, got ${found}`,
          }),
        });
      }
    expect(hub.registry.devices()).toEqual([]);
    const registered = await post(hub, httpRoutes.register, hub.deviceKey, "application/json; charset=utf-8", info);
    expect(registered).toEqual({ status: 200, json: { registered: true, device: "dev-1" } });
    expect(hub.registry.devices().map((device) => device.id)).toEqual(["dev-1"]);
  });

  test("a rollout and a resume sent as another type are refused, not ignored; a model file still uploads", async () => {
    await using home = tempDir();
    await using hub = await startHub(home.path);
    expect((await post(hub, httpRoutes.register, hub.deviceKey, "application/json", info)).status).toBe(200);
    // curl --data-binary sends a form type: the model file is taken as it comes.
    const upload = await fetch(`${hub.url}/v1/fleet/models/player_1`, {
      method: "POST",
      headers: { authorization: `Bearer ${hub.token}`, "content-type": "application/x-www-form-urlencoded" },
      body: readFileSync(onnxFile(home.path)),
    });
    expect(upload.status).toBe(201);
    const plan = { model: "player_1", waves: [1], max_failures: 0.05 };
    for (const type of NOT_JSON)
      expect({ type, status: (await post(hub, "/v1/fleet/rollouts", hub.token, type, plan)).status }).toEqual({
        type,
        status: 415,
      });
    expect((await api(hub, "GET", "/v1/fleet/rollouts")).json.rollouts).toEqual([]);
    const started = await api(hub, "POST", "/v1/fleet/rollouts", plan);
    expect(started.status).toBe(201);
    const rollout = `/v1/fleet/rollouts/${started.json.id}`;
    // No body and no type: nothing to refuse.
    expect((await api(hub, "POST", `${rollout}/pause`)).json.state).toBe("paused");
    for (const type of NOT_JSON)
      expect({
        type,
        status: (await post(hub, `${rollout}/resume`, hub.token, type, { max_failures: 0.5 })).status,
      }).toEqual({ type, status: 415 });
    expect((await api(hub, "GET", rollout)).json).toMatchObject({ state: "paused", max_failures: 0.05 });
    const resumed = await post(hub, `${rollout}/resume`, hub.token, "application/json", { max_failures: 0.5 });
    expect(resumed).toMatchObject({ status: 200, json: { state: "running", max_failures: 0.5 } });
  });
});

test("the hub's document offers each JSON body as application/json alone, with its 415", async () => {
  await using home = tempDir();
  await using hub = await startHub(home.path);
  const response = await fetch(`${hub.url}/openapi`);
  const doc = (await response.json()) as {
    paths: Record<string, Record<string, { requestBody?: { content: object }; responses: object }>>;
  };
  const bodies = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([, operation]) => operation.requestBody)
      .map(([method, operation]) => ({
        route: `${method.toUpperCase()} ${path}`,
        types: Object.keys(operation.requestBody!.content),
        has415: "415" in operation.responses,
      })),
  );
  const json = { types: ["application/json"], has415: true };
  expect(bodies).toEqual(
    expect.arrayContaining([
      { route: "POST /v1/fleet/rollouts", ...json },
      { route: "POST /v1/fleet/rollouts/{id}/{action}", ...json },
      { route: "POST /v1/fleet/rollbacks", ...json },
      { route: "POST /v1/fleet/commands", ...json },
      { route: "POST /api/v1/edge-devices/register", ...json },
      { route: "POST /api/v1/edge-devices/{device}/heartbeat", ...json },
      { route: "POST /api/v1/edge-devices/{device}/reports", ...json },
    ]),
  );
  expect(bodies.filter((body) => !body.has415 || body.types.length !== 1)).toEqual([]);
});
