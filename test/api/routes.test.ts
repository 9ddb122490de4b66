import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { createApp } from "../../runtime/api/app.ts";
import * as schema from "../../runtime/api/response-schemas.ts";
import { daemonEvents } from "../../tui/connection.ts";
import { type LoggedLine, recordingLogger } from "../helpers.ts";
import { CONFLICT, fakeDaemon, RUN, request, STATUS } from "./fake-daemon.ts";

type Shape = Exclude<keyof typeof schema, "ErrorBody">;

/** Sends one request in process and reads the JSON answer. */
async function send(app: ReturnType<typeof createApp>, req: Request) {
  const response = await app.handle(req);
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
  };
}

/** The issues of `body` against the named schema, as `path: message` lines; none when it fits. */
function misfits(shape: Shape | "ErrorBody", body: unknown): string[] {
  const result = v.safeParse(schema[shape], body);
  return result.success ? [] : result.issues.map((issue) => `${v.getDotPath(issue) ?? "(root)"}: ${issue.message}`);
}

describe("every route in process, behind a fake daemon", () => {
  test("answers the shape the contract gives it, with what the daemon said", async () => {
    const { view, calls } = fakeDaemon();
    const app = createApp(view);
    const cases: Array<[Request, number, Shape, unknown?]> = [
      [request("GET", "/health"), 200, "Health", { status: "ok" }],
      [request("GET", "/v1/status"), 200, "DaemonStatus", STATUS],
      [request("GET", "/v1/jobs"), 200, "JobList"],
      [request("GET", "/v1/runs?job=activity&limit=5"), 200, "RunList", { runs: [RUN] }],
      [request("GET", "/v1/runs/r2"), 200, "RunDetail", RUN],
      [
        request("POST", "/v1/runs/r2/pause", { token: true }),
        200,
        "RunControlled",
        { run: "r2", action: "pause", accepted: true },
      ],
      [
        request("POST", "/v1/jobs/activity/run", { token: true, body: { key: "player_1", force: true } }),
        202,
        "RunQueued",
        {
          queued: true,
          job: "activity",
          key: "player_1",
          force: true,
          ignore_governor: true,
          ignore_conflicts: true,
          keys: [{ key: "player_1", result: "queued" }],
        },
      ],
      [
        request("POST", "/v1/jobs/activity/run", { token: true }),
        202,
        "RunQueued",
        {
          queued: true,
          job: "activity",
          key: null,
          force: false,
          ignore_governor: false,
          ignore_conflicts: false,
          keys: [{ key: "player_1", result: "queued" }],
        },
      ],
      [
        request("POST", "/v1/jobs/activity/run", { token: true, body: { ignore_conflicts: true } }),
        202,
        "RunQueued",
        {
          queued: true,
          job: "activity",
          key: null,
          force: false,
          ignore_governor: false,
          ignore_conflicts: true,
          keys: [{ key: "player_1", result: "queued" }],
        },
      ],
      [request("GET", "/v1/models"), 200, "ModelList"],
      [request("GET", "/v1/models/activity-player_1"), 200, "ModelDetail"],
      [
        request("POST", "/v1/models/activity-player_1/activate", { token: true, body: { version: 1 } }),
        200,
        "ModelActivated",
      ],
      [request("POST", "/v1/models/activity-player_1/rollback", { token: true }), 200, "ModelRolledBack"],
      [request("POST", "/v1/predict/activity-player_1", { body: { inputs: [[60, 170]] } }), 200, "Prediction"],
      [request("GET", "/v1/cache"), 200, "CacheStats", STATUS.cache],
      [
        request("DELETE", "/v1/cache?model=activity-player_1", { token: true }),
        200,
        "CacheCleared",
        { cleared: "activity-player_1" },
      ],
      [
        request("POST", "/v1/cache/warm?model=activity", { token: true }),
        200,
        "CacheWarmed",
        { warmed: [{ model: "activity", entries: 3 }] },
      ],
      [request("GET", "/v1/conflicts"), 200, "ConflictList", { conflicts: [CONFLICT] }],
      [
        request("POST", "/v1/conflicts/c1", { token: true, body: { action: "skip", by: "test" } }),
        200,
        "Conflict",
        { ...CONFLICT, answer: "skip", answered_by: "test" },
      ],
      [request("GET", "/v1/profile"), 200, "ProfileText"],
      [request("GET", "/v1/logs?limit=10&level=warn&job=activity"), 200, "LogList"],
    ];
    for (const [req, status, shape, expected] of cases) {
      const what = `${req.method} ${new URL(req.url).pathname}`;
      const answer = await send(app, req);
      expect([what, answer.status, misfits(shape, answer.body)]).toEqual([what, status, []]);
      if (expected !== undefined)
        expect({ what, body: answer.body }).toEqual({ what, body: expected as Record<string, unknown> });
    }
    // What the routes handed to the daemon: parsed queries and bodies, defaults filled in.
    expect(calls).toContainEqual(["runs", { job: "activity", limit: 5 }]);
    expect(calls).toContainEqual(["controlRun", "r2", "pause"]);
    expect(calls).toContainEqual([
      "requestRun",
      "activity",
      "player_1",
      { ignoreGovernor: true, ignoreConflicts: true },
    ]);
    expect(calls).toContainEqual([
      "requestRun",
      "activity",
      undefined,
      { ignoreGovernor: false, ignoreConflicts: false },
    ]);
    expect(calls).toContainEqual([
      "requestRun",
      "activity",
      undefined,
      { ignoreGovernor: false, ignoreConflicts: true },
    ]);
    expect(calls).toContainEqual(["activate", "activity-player_1", 1]);
    expect(calls).toContainEqual(["predict", "activity-player_1", { inputs: [[60, 170]] }]);
    expect(calls).toContainEqual(["clearCache", "activity-player_1"]);
    expect(calls).toContainEqual(["warmCache", "activity"]);
    expect(calls).toContainEqual(["answerConflict", "c1", "skip", "test"]);
    expect(calls).toContainEqual(["logs", { limit: 10, level: "warn", job: "activity" }]);
  });

  test("/metrics is the daemon's text, /v1/events its bus as server-sent events with ISO times", async () => {
    const { view, emit } = fakeDaemon();
    const app = createApp(view);
    const metrics = await app.handle(request("GET", "/metrics"));
    expect([metrics.status, metrics.headers.get("content-type"), await metrics.text()]).toEqual([
      200,
      "text/plain; version=0.0.4",
      "edgetrain_up 1\n",
    ]);

    const stream = await app.handle(request("GET", "/v1/events?types=run.,model.activated"));
    expect(stream.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    emit("governor.reading", { cpuPercent: 10, memoryPercent: 20, totalCpuPercent: 10, ownCpuPercent: 1, load1: 0.5 });
    emit("run.progress", { run: "r2", job: "activity", done: 5, total: 10 });
    emit("model.activated", { model: "m", version: 2, previous: 1 });
    const events = [];
    for await (const event of daemonEvents(stream.body!)) if (events.push(event) === 2) break;
    expect(events).toEqual([
      {
        type: "run.progress",
        id: 1002,
        data: { run: "r2", job: "activity", done: 5, total: 10, at: "2026-12-04T10:00:02.000Z" },
      },
      {
        type: "model.activated",
        id: 1003,
        data: { model: "m", version: 2, previous: 1, at: "2026-12-04T10:00:02.000Z" },
      },
    ]);
  });

  test("errors are {code, message, hint?, ...details} with the status of their code, and no stack trace", async () => {
    const { view } = fakeDaemon({
      status: () => {
        throw new Error("a bug with a stack");
      },
      profile: () => {
        throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
      },
      controlRun: () => false,
    });
    const app = createApp(view);
    const cases: Array<[Request, number, Record<string, unknown>]> = [
      [
        request("GET", "/v1/models/nope"),
        404,
        { code: "not_found", message: 'no model "nope"', hint: "edgetrain models lists them", model: "nope" },
      ],
      [request("GET", "/v1/runs/r9"), 404, { code: "not_found", message: 'no run "r9"', run: "r9" }],
      [
        request("POST", "/v1/cache/warm?model=nope", { token: true }),
        404,
        { code: "not_found", message: 'no model "nope"', model: "nope" },
      ],
      [
        request("POST", "/v1/runs/r2/cancel", { token: true }),
        409,
        { code: "conflict", message: "run r2 is not in progress", run: "r2", action: "cancel" },
      ],
      [request("POST", "/v1/jobs/busy/run", { token: true }), 503, { code: "deferred", hint: "free space on it" }],
      [
        request("POST", "/v1/predict/broken", { body: { inputs: [[1]] } }),
        503,
        { code: "model_unavailable", model: "broken" },
      ],
      [
        request("POST", "/v1/conflicts/c9", { token: true, body: { action: "wait" } }),
        404,
        { code: "not_found", conflict: "c9" },
      ],
      [
        request("POST", "/v1/models/activity-player_1/activate", { token: true, body: {} }),
        400,
        { code: "bad_request", message: "POST /v1/models/activity-player_1/activate: body.version: missing" },
      ],
      [request("POST", "/v1/predict/a..b", { body: { inputs: [[1]] } }), 400, { code: "bad_request" }],
      [request("GET", "/v1/models/Activity"), 400, { code: "bad_request" }],
      [
        request("GET", "/v1/runs?limit=lots"),
        400,
        { code: "bad_request", message: "GET /v1/runs: query.limit: a whole number from 1 to 1000" },
      ],
      [
        request("POST", "/v1/predict/activity-player_1", { body: "{inputs: [1," }),
        400,
        { code: "bad_request", message: "POST /v1/predict/activity-player_1: the body is not valid JSON" },
      ],
      [
        request("POST", "/v1/predict/activity-player_1", { body: { inputs: [[1]], extra: 1 } }),
        400,
        { code: "bad_request", message: "POST /v1/predict/activity-player_1: body.extra: unknown field" },
      ],
      [request("GET", "/v1/nothing"), 404, { code: "not_found", message: "no route GET /v1/nothing" }],
      [request("GET", "/v1/models", { headers: { host: "attacker.example" } }), 403, { code: "forbidden_host" }],
      [
        request("POST", "/v1/predict/activity-player_1", {
          body: { inputs: Array.from({ length: 20_000 }, () => [1, 2]) },
        }),
        413,
        { code: "too_large" },
      ],
      [
        request("POST", "/v1/predict/activity-player_1", { body: "{}", headers: { "transfer-encoding": "chunked" } }),
        411,
        { code: "length_required" },
      ],
      [request("GET", "/v1/status"), 500, { code: "internal", message: "GET /v1/status failed; see the daemon log" }],
      [request("GET", "/v1/profile"), 507, { code: "disk_full" }],
    ];
    for (const [req, status, expected] of cases) {
      if (req.headers.get("transfer-encoding")) req.headers.delete("content-length");
      const what = `${req.method} ${new URL(req.url).pathname}`;
      const answer = await send(app, req);
      expect([what, answer.status, misfits("ErrorBody", answer.body)]).toEqual([what, status, []]);
      expect([what, answer.body]).toEqual([what, expect.objectContaining(expected)]);
      expect(answer.text).not.toContain("    at ");
    }
  });

  test("a 500 is logged once at error level with the method, path and stack; the answer has no stack", async () => {
    const lines: LoggedLine[] = [];
    const logger = recordingLogger(lines);
    const { view } = fakeDaemon({
      status: () => {
        throw new Error("a bug with a stack");
      },
    });
    const app = createApp(view, logger);
    const answer = await send(app, request("GET", "/v1/status?verbose=1"));
    expect([answer.status, answer.body?.code]).toEqual([500, "internal"]);
    expect(answer.text).not.toContain("a bug with a stack");
    expect(lines).toEqual([
      {
        level: "error",
        message: "GET /v1/status failed",
        fields: {
          method: "GET",
          path: "/v1/status",
          error: "Error: a bug with a stack",
          stack: expect.stringContaining("    at "),
        },
      },
    ]);
    // Answers the API meant to give are not the daemon's faults, and stay out of the log.
    await send(app, request("GET", "/v1/models/nope"));
    await send(app, request("GET", "/v1/nothing"));
    expect(lines).toHaveLength(1);
  });

  test("a state-changing route refuses a parameter or body field it does not take, and does nothing", async () => {
    const { view, calls } = fakeDaemon();
    const app = createApp(view);
    const model = "/v1/models/activity-player_1";
    const onnx = { body: "onnx", headers: { "content-type": "application/octet-stream" } };
    const cases: Array<[Request, string]> = [
      [request("DELETE", "/v1/cache?modle=activity-player_1", { token: true }), "query.modle: unknown parameter"],
      [request("DELETE", "/v1/cache", { token: true, body: { model: "x" } }), "body.model: unknown field"],
      [request("POST", "/v1/cache/warm", { token: true, body: { model: "x" } }), "body.model: unknown field"],
      [request("POST", "/v1/cache/warm?modle=x", { token: true }), "query.modle: unknown parameter"],
      [
        request("POST", `${model}/rollback`, { token: true, body: { dry_run: true, to: 1 } }),
        "body.dry_run: unknown field",
      ],
      [request("POST", `${model}/rollback?to=1`, { token: true }), "query.to: unknown parameter"],
      [
        request("POST", `${model}/activate?dry_run=1`, { token: true, body: { version: 1 } }),
        "query.dry_run: unknown parameter",
      ],
      [request("POST", `${model}/versions?activte=true`, { token: true, ...onnx }), "query.activte: unknown parameter"],
      [request("POST", "/v1/jobs/activity/run?key=player_1", { token: true }), "query.key: unknown parameter"],
      [request("POST", "/v1/runs/r2/cancel", { token: true, body: { reason: "x" } }), "body.reason: unknown field"],
      [request("POST", "/v1/runs/r2/cancel?force=1", { token: true }), "query.force: unknown parameter"],
      [
        request("POST", "/v1/conflicts/c1?key=player_1", { token: true, body: { action: "skip" } }),
        "query.key: unknown parameter",
      ],
    ];
    for (const [req, field] of cases) {
      const what = `${req.method} ${new URL(req.url).pathname}`;
      const answer = await send(app, req);
      expect([what, answer.status, answer.body]).toEqual([
        what,
        400,
        { code: "bad_request", message: `${what}: ${field}` },
      ]);
    }
    expect(calls).toEqual([]);
    // Left out or empty, a body that a route does not take is fine.
    for (const body of [undefined, {}]) {
      expect((await send(app, request("POST", `${model}/rollback`, { token: true, body }))).status).toBe(200);
      expect((await send(app, request("POST", "/v1/cache/warm", { token: true, body }))).status).toBe(200);
    }
  });

  test("a route that takes JSON refuses a body of another type with 415, and does nothing", async () => {
    const { view, calls } = fakeDaemon();
    const app = createApp(view);
    const model = "/v1/models/activity-player_1";
    const cases: Array<[string, string, unknown]> = [
      ["POST", "/v1/predict/activity-player_1", { inputs: [[60, 170]] }],
      [
        "POST",
        "/v2/models/activity-player_1/infer",
        { inputs: [{ name: "x", shape: [1], datatype: "FP32", data: [1] }] },
      ],
      ["POST", `${model}/activate`, { version: 1 }],
      ["POST", `${model}/rollback`, {}],
      ["POST", "/v1/jobs/activity/run", { key: "player_1" }],
      ["POST", "/v1/runs/r2/cancel", {}],
      ["POST", "/v1/conflicts/c1", { action: "skip" }],
      ["POST", "/v1/cache/warm", {}],
      ["DELETE", "/v1/cache", {}],
    ];
    const types = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/json"];
    for (const [method, path, body] of cases)
      for (const type of types) {
        const text = JSON.stringify(body);
        const answer = await send(
          app,
          request(method, path, { token: true, body: text, headers: { "content-type": type } }),
        );
        expect([method, path, answer.status, answer.body]).toEqual([
          method,
          path,
          415,
          expect.objectContaining({
            code: "unsupported_media_type",
            message: `${method} ${path} takes a JSON body, got Content-Type ${JSON.stringify(type)}`,
            content_type: type,
          }),
        ]);
      }
    expect(calls).toEqual([]);
    // The model import takes the file as it is, whatever type a client gives it (curl --data-binary says a form).
    for (const type of ["application/octet-stream", "application/x-www-form-urlencoded"]) {
      const upload = request("POST", `${model}/versions?file=net.onnx`, {
        token: true,
        body: "onnx",
        headers: { "content-type": type },
      });
      expect((await send(app, upload)).status).toBe(201);
    }
  });
});
