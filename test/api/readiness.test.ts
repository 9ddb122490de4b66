import { describe, expect, test } from "bun:test";
import { createApp } from "../../runtime/api/app.ts";
import { fakeDaemon, request } from "./fake-daemon.ts";

describe("readiness, apart from liveness", () => {
  test(
    "/ready and /v2/health/ready answer 503 with the reason while a serving version does not load; /health stays " +
      "200",
    async () => {
      const reason =
        "model activity-player_1: model activity-player_1 version 2: model.onnx does not load in ONNX Runtime";
      const app = createApp(fakeDaemon({ ready: async () => ({ ready: false, reason }) }).view);
      for (const path of ["/ready", "/v2/health/ready"]) {
        const response = await app.handle(request("GET", path));
        expect({ path, status: response.status, body: await response.json() }).toEqual({
          path,
          status: 503,
          body: { ready: false, reason },
        });
      }
      expect((await app.handle(request("GET", "/health"))).status).toBe(200);
      const ready = createApp(fakeDaemon().view);
      expect(await (await ready.handle(request("GET", "/ready"))).json()).toEqual({ ready: true });
    },
  );

  test(
    "an Open Inference Protocol error carries the protocol's error field beside edgetrain's code and " + "message",
    async () => {
      const app = createApp(fakeDaemon().view);
      const response = await app.handle(
        request("POST", "/v2/models/activity-player_1/infer", { body: { inputs: [] } }),
      );
      expect(response.status).toBe(400);
      const body = (await response.json()) as { code: string; message: string; error: string };
      expect(body.code).toBe("bad_request");
      expect(body.error).toBe(body.message);
      expect(body.message).toContain("body.inputs: at least one input");
    },
  );
});
