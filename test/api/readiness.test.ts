import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { createApp } from "../../runtime/api/app.ts";
import { tempDir, waitUntil } from "../helpers.ts";
import { startAthleteDaemon } from "../serving/fixture.ts";
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

describe("readiness of a real daemon", () => {
  test("/ready, /v2/health/ready and /v2/models/NAME/ready load no model; a serving file damaged on disk makes them " +
    "503 with the model, the version and why, and ready again once restored", async () => {
    await using dir = tempDir();
    const { daemon, token } = await startAthleteDaemon(
      dir.path,
      `extends: base
governor: { max_cpu_before: 100, max_memory_before: 100, pause_cpu: 100, pause_memory: 100 }
inference: { max_loaded: 1 }
jobs:
  activity:
    strategy: random-forest
    options: { n_estimators: 5, max_depth: 4 }
    data: { source: sessions, path: athletes, sessions_to_use: 3, debounce: 0 }
    triggers: [{ type: manual }]
`,
    );
    try {
      const run = await fetch(`${daemon.url}/v1/jobs/activity/run`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: "{}",
      });
      expect(run.status).toBeLessThan(300);
      const activeModels = async () =>
        (
          (await (await fetch(`${daemon.url}/v1/models`)).json()) as { models: Array<{ active?: number }> }
        ).models.filter((m) => m.active !== undefined).length;
      await waitUntil(async () => (await activeModels()) === 2, 60_000);
      const loads = async () =>
        Number(/\nedgetrain_session_loads_total (\d+)\n/.exec(await (await fetch(`${daemon.url}/metrics`)).text())![1]);
      const answer = async (path: string) => {
        const response = await fetch(daemon.url + path);
        return [response.status, await response.json()];
      };
      const before = await loads();
      for (let i = 0; i < 3; i++) {
        expect(await answer("/ready")).toEqual([200, { ready: true }]);
        expect(await answer("/v2/health/ready")).toEqual([200, { ready: true }]);
        for (const model of ["activity-player_1", "activity-player_2"])
          expect(await answer(`/v2/models/${model}/ready`)).toEqual([200, { name: model, ready: true }]);
      }
      expect(await loads()).toBe(before);

      // max_loaded 1 keeps one session: the other model's readiness comes from its file alone.
      const status = (await (await fetch(`${daemon.url}/v1/status`)).json()) as {
        models: { loaded: Array<{ model: string }> };
      };
      const kept = status.models.loaded.map((m) => m.model);
      const model = ["activity-player_1", "activity-player_2"].find((name) => !kept.includes(name))!;
      const detail = (await (await fetch(`${daemon.url}/v1/models/${model}`)).json()) as {
        versions: Array<{ path: string }>;
      };
      const file = detail.versions[0]!.path;
      const intact = readFileSync(file);
      writeFileSync(file, Buffer.concat([intact, Buffer.from("x")]));
      expect(await answer("/ready")).toEqual([
        503,
        {
          ready: false,
          reason: `model ${model} version 1: ${file} does not match its sha256 (damaged or changed by hand)`,
        },
      ]);
      expect(await answer(`/v2/models/${model}/ready`)).toEqual([503, { name: model, ready: false }]);
      writeFileSync(file, intact);
      expect(await answer("/ready")).toEqual([200, { ready: true }]);
      expect(await loads()).toBe(before);
    } finally {
      daemon.proc.kill("SIGTERM");
      await daemon.proc.exited;
    }
  }, 120_000);
});
