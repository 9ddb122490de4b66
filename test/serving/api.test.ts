import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import * as schema from "../../runtime/api/response-schemas.ts";
import { daemonEvents } from "../../tui/connection.ts";
import { type startDaemonProcess, type TempDir, tempDir, waitUntil } from "../helpers.ts";
import { startAthleteDaemon } from "./fixture.ts";

let dir: TempDir;
let daemon: Awaited<ReturnType<typeof startDaemonProcess>>;
let token = "";
let row: number[] = [];
const auth = () => ({ authorization: `Bearer ${token}`, "content-type": "application/json" });
/** A body of unknown length: Bun's fetch sends a stream with Transfer-Encoding: chunked. */
const chunked = (text: string) =>
  new ReadableStream({
    start: (controller) => (controller.enqueue(new TextEncoder().encode(text)), controller.close()),
  });
const post = (path: string, body: unknown, headers: Record<string, string> = auth()) =>
  fetch(daemon.url + path, { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) });

/** Reads server-sent events until `until` says stop; returns their types and data. */
async function collectEvents(
  path: string,
  until: (type: string, data: Record<string, unknown>) => boolean,
  start: () => Promise<unknown>,
) {
  const response = await fetch(daemon.url + path);
  expect(response.headers.get("content-type")).toContain("text/event-stream");
  const events: Array<{ type: string; data: Record<string, unknown> }> = [];
  await start();
  const deadline = Date.now() + 60_000;
  // Leaving the loop cancels the stream.
  for await (const event of daemonEvents(response.body!)) {
    events.push(event);
    if (until(event.type, event.data) || Date.now() > deadline) break;
  }
  return events;
}

beforeAll(async () => {
  dir = tempDir();
  ({ daemon, token } = await startAthleteDaemon(
    dir.path,
    `extends: base
governor: { max_cpu_before: 100, max_memory_before: 100, pause_cpu: 100, pause_memory: 100 }
jobs:
  activity:
    strategy: random-forest
    options: { n_estimators: 10, max_depth: 6 }
    data: { source: sessions, path: athletes, sessions_to_use: 3, debounce: 0 }
    triggers: [{ type: manual }]
api: { max_body_kb: 64 }
`,
  ));
});

afterAll(async () => {
  daemon.proc.kill("SIGTERM");
  await daemon.proc.exited;
  await dir[Symbol.asyncDispose]();
});

describe("HTTP API", () => {
  test("a run streams its progress and the activation as server-sent events; models are listed and " +
    "served", async () => {
    const events = await collectEvents(
      "/v1/events?types=run.,model.",
      (type, data) => type === "model.activated" && data.model === "activity-player_2",
      () => post("/v1/jobs/activity/run", {}),
    );
    const types = events.map((e) => e.type);
    for (const type of ["run.started", "run.progress", "model.version_added", "model.activated"])
      expect(types).toContain(type);
    expect(types.every((type) => type.startsWith("run.") || type.startsWith("model."))).toBe(true);
    expect(events.find((e) => e.type === "run.progress")!.data).toMatchObject({ job: "activity", total: 10 });

    const { models } = (await (await fetch(`${daemon.url}/v1/models`)).json()) as {
      models: Array<{ model: string; active: number }>;
    };
    expect(models.map((m) => [m.model, m.active])).toEqual([
      ["activity-player_1", 1],
      ["activity-player_2", 1],
    ]);
    const detail = (await (await fetch(`${daemon.url}/v1/models/activity-player_1`)).json()) as {
      versions: Array<{ version: number; metrics: Record<string, number>; gate: unknown }>;
      feature_names: string[];
    };
    expect(detail.feature_names).toHaveLength(16);
    expect(detail.versions[0]!.metrics.accuracy).toBeGreaterThan(0.4);
    row = detail.feature_names.map((_, i) => i);

    const first = await post(
      "/v1/predict/activity-player_1",
      { inputs: [row, row] },
      { "content-type": "application/json" },
    );
    expect(first.status).toBe(200);
    const answer = (await first.json()) as {
      model: string;
      version: number;
      outputs: Array<{ label: string; probabilities: Record<string, number> }>;
      cached: boolean;
    };
    expect(answer).toMatchObject({ model: "activity-player_1", version: 1, cached: false });
    expect(answer.outputs).toHaveLength(2);
    expect(Object.keys(answer.outputs[0]!.probabilities).sort()).toEqual(["jog", "rest", "run", "sprint", "walk"]);
    const byName = (await (
      await post("/v1/predict/activity-player_1", {
        rows: [Object.fromEntries(detail.feature_names.map((n, i) => [n, row[i]]))],
      })
    ).json()) as { cached: boolean; outputs: unknown[] };
    expect(byName.outputs[0]).toEqual(answer.outputs[0]);
    expect(
      ((await (await post("/v1/predict/activity-player_1", { inputs: [row, row] })).json()) as { cached: boolean })
        .cached,
    ).toBe(true);
    const cache = (await (await fetch(`${daemon.url}/v1/cache`)).json()) as { hits: number; entries: number };
    expect(cache.hits).toBeGreaterThanOrEqual(1);
    const status = (await (await fetch(`${daemon.url}/v1/status`)).json()) as {
      models: { active: number };
      cache: { type: string };
    };
    expect(status).toMatchObject({ models: { active: 2 }, cache: { type: "memory" } });
  }, 90_000);

  test("a real daemon's answers fit the schemas of the API contract", async () => {
    const { runs } = (await (await fetch(`${daemon.url}/v1/runs`)).json()) as { runs: Array<{ id: string }> };
    const answers: Array<[string, keyof typeof schema]> = [
      ["/health", "Health"],
      ["/v1/status", "DaemonStatus"],
      ["/v1/jobs", "JobList"],
      ["/v1/runs", "RunList"],
      [`/v1/runs/${runs[0]!.id}`, "RunDetail"],
      ["/v1/models", "ModelList"],
      ["/v1/models/activity-player_1", "ModelDetail"],
      ["/v1/cache", "CacheStats"],
      ["/v1/conflicts", "ConflictList"],
      ["/v1/profile", "ProfileText"],
      ["/v1/logs?limit=50", "LogList"],
      ["/v1/nothing", "ErrorBody"],
    ];
    const misfits: string[] = [];
    for (const [path, name] of answers) {
      const result = v.safeParse(schema[name], await (await fetch(daemon.url + path)).json());
      if (!result.success)
        misfits.push(...result.issues.map((issue) => `${path}: ${v.getDotPath(issue)}: ${issue.message}`));
    }
    const prediction = await (await post("/v1/predict/activity-player_1", { inputs: [row] })).json();
    if (!v.is(schema.Prediction, prediction)) misfits.push(`/v1/predict: ${JSON.stringify(prediction)}`);
    expect(misfits).toEqual([]);
  });

  test("activate and roll back over the API; the version answers at once", async () => {
    const run = await post("/v1/jobs/activity/run", { key: "player_1" });
    expect(run.status).toBe(202);
    // Until the run's own deploy has decided on version 2 (a candidate is still being gated and activated),
    // an activation by hand could be overtaken by it.
    await waitUntil(async () => {
      const { versions } = (await (await fetch(`${daemon.url}/v1/models/activity-player_1`)).json()) as {
        versions: Array<{ status: string }>;
      };
      return versions.length === 2 && versions.every((version) => version.status !== "candidate");
    }, 60_000);
    const back = await post("/v1/models/activity-player_1/activate", { version: 1 });
    expect(back.status).toBe(200);
    expect(
      ((await (await post("/v1/predict/activity-player_1", { inputs: [row] })).json()) as { version: number }).version,
    ).toBe(1);
    expect((await post("/v1/models/activity-player_1/activate", { version: 2 })).status).toBe(200);
    const rolled = await post("/v1/models/activity-player_1/rollback", {});
    expect(((await rolled.json()) as { active: { version: number } }).active.version).toBe(1);
    expect(
      (await fetch(`${daemon.url}/v1/cache?model=activity-player_1`, { method: "DELETE", headers: auth() })).status,
    ).toBe(200);
  }, 90_000);

  test("every malformed request gets a 4xx naming what is wrong, and the daemon stays up", async () => {
    const cases: Array<[string, Promise<Response>, number, string]> = [
      ["bad JSON", post("/v1/predict/activity-player_1", "{inputs: [1,"), 400, "not valid JSON"],
      ["wrong type", post("/v1/predict/activity-player_1", { inputs: [[1, "x"]] }), 400, "body.inputs[0][1]"],
      ["unknown field", post("/v1/predict/activity-player_1", { input: [[1]] }), 400, "body.input: unknown field"],
      ["neither inputs nor rows", post("/v1/predict/activity-player_1", {}), 400, "give either"],
      ["empty body", post("/v1/predict/activity-player_1", ""), 400, "not valid JSON"],
      [
        "chunked body without a length",
        fetch(`${daemon.url}/v1/predict/activity-player_1`, {
          method: "POST",
          body: chunked(JSON.stringify({ inputs: [row] })),
          duplex: "half",
        } as RequestInit),
        411,
        "Content-Length",
      ],
      ["a JSON array", post("/v1/predict/activity-player_1", "[]"), 400, ""],
      [
        "beyond float32",
        post("/v1/predict/activity-player_1", { inputs: [row.map((value, i) => (i === 2 ? 1e39 : value))] }),
        400,
        "inputs[0][2] (cadence): 1e+39 is beyond the float32 range",
      ],
      [
        "beyond float64",
        post("/v1/predict/activity-player_1", `{"rows": [{"hr": 1e309}]}`),
        400,
        "rows[0].hr: not a finite number",
      ],
      [
        "wrong feature count",
        post("/v1/predict/activity-player_1", { inputs: [[1, 2, 3]] }),
        400,
        "inputs[0]: model activity-player_1 takes 16 features",
      ],
      ["unknown feature", post("/v1/predict/activity-player_1", { rows: [{ nope: 1 }] }), 400, "rows[0].nope"],
      ["unknown model", post("/v1/predict/activity-player_99", { inputs: [[1]] }), 404, "no model"],
      [
        "misspelled model",
        post("/v1/predict/activity-player1", { inputs: [[1]] }),
        404,
        'no model \\"activity-player1\\" (did you mean \\"activity-player_1\\"?)',
      ],
      [
        "cache of an unknown model",
        fetch(`${daemon.url}/v1/cache?model=activity-player_99`, { method: "DELETE", headers: auth() }),
        404,
        "no model",
      ],
      [
        "unknown job",
        post("/v1/jobs/activty/run", {}),
        404,
        'no job \\"activty\\" in the profile (did you mean \\"activity\\"?)',
      ],
      [
        "unknown key",
        post("/v1/jobs/activity/run", { key: "player_99" }),
        404,
        'job activity has no key \\"player_99\\"',
      ],
      ["rollback of an unknown model", post("/v1/models/activity-player_99/rollback", {}), 404, "no model"],
      ["unknown version", post("/v1/models/activity-player_1/activate", { version: 42 }), 404, "has no version 42"],
      ["no version", post("/v1/models/activity-player_1/activate", {}), 400, "body.version: missing"],
      [
        "version not a number",
        post("/v1/models/activity-player_1/activate", { version: "2" }),
        400,
        "body.version: a version number (1, 2, …)",
      ],
      ["path trick", fetch(`${daemon.url}/v1/models/..%2F..%2Fetc`), 400, "a . or .. segment"],
      ["upper case name", fetch(`${daemon.url}/v1/models/Activity`), 400, "params.name"],
      ["dot-dot name", post("/v1/predict/a..b", { inputs: [[1]] }), 400, "params.name"],
      [
        "oversize body",
        post("/v1/predict/activity-player_1", { inputs: Array.from({ length: 5000 }, () => row) }),
        413,
        "over api.max_body_kb",
      ],
      ["unknown run action", post("/v1/runs/x/explode", {}), 400, "params.action"],
      ["bad limit", fetch(`${daemon.url}/v1/runs?limit=lots`), 400, "query.limit: a whole number from 1 to 1000"],
      ["negative limit", fetch(`${daemon.url}/v1/runs?limit=-5`), 400, "query.limit: a whole number from 1 to 1000"],
      [
        "limit over the most",
        fetch(`${daemon.url}/v1/runs?limit=5000`),
        400,
        "query.limit: a whole number from 1 to 1000",
      ],
      ["bad conflict answer", post("/v1/conflicts/c1", { action: "maybe" }), 400, "body.action"],
      ["unknown conflict", post("/v1/conflicts/c1", { action: "wait" }), 404, "no open conflict"],
      ["rollback with nothing earlier", post("/v1/models/activity-player_2/rollback", {}), 409, "no earlier version"],
    ];
    for (const [name, pending, status, text] of cases) {
      const response = await pending;
      const body = await response.text();
      expect([name, response.status]).toEqual([name, status]);
      expect(body).toContain(text);
      expect(body).not.toContain("    at ");
    }
    expect((await fetch(`${daemon.url}/health`)).status).toBe(200);
  }, 60_000);

  test("token rules: writes need it, predictions on loopback do not, a wrong token is refused", async () => {
    expect(
      (await post("/v1/models/activity-player_1/rollback", {}, { "content-type": "application/json" })).status,
    ).toBe(401);
    expect(
      (await post("/v1/models/activity-player_1/rollback", {}, { authorization: `Bearer ${token.slice(0, -1)}x` }))
        .status,
    ).toBe(401);
    expect((await fetch(`${daemon.url}/v1/cache`, { method: "DELETE" })).status).toBe(401);
    expect(
      (await post("/v1/predict/activity-player_1", { inputs: [row] }, { "content-type": "application/json" })).status,
    ).toBe(200);
    expect(readFileSync(join(dir.path, "logs/edgetrain.log"), "utf8")).not.toContain(token);
  });

  test("a body not sent as JSON, as any web page may send it without a preflight, is refused with 415", async () => {
    type Counts = { inference: { calls: number }; cache: { hits: number; misses: number } };
    const counts = async () => {
      const { inference, cache } = (await (await fetch(`${daemon.url}/v1/status`)).json()) as Counts;
      return [inference.calls, cache.hits + cache.misses];
    };
    const before = await counts();
    const fresh = JSON.stringify({ inputs: [row.map((value) => value + 0.5)] });
    const infer = JSON.stringify({
      inputs: [{ name: "features", shape: [1, row.length], datatype: "FP32", data: row }],
    });
    const page = (path: string, body: string, type: string | undefined) =>
      // A page's cross-origin POST: the body a string or a Blob of no type, no token.
      fetch(daemon.url + path, {
        method: "POST",
        headers: { origin: "http://attacker.example", ...(type ? { "content-type": type } : {}) },
        body: type ? body : new Blob([body]),
      });
    const answered: string[] = [];
    for (const [path, body] of [
      ["/v1/predict/activity-player_1", fresh],
      ["/v2/models/activity-player_1/infer", infer],
    ] as const)
      for (const type of ["text/plain;charset=UTF-8", "application/x-www-form-urlencoded", undefined]) {
        const response = await page(path, body, type);
        answered.push(`${path} ${type} -> ${response.status} ${await response.text()}`);
      }
    const said = (path: string, found: string) =>
      `"message":"POST ${path} takes a JSON body, got ${found}","hint":"send it with Content-Type: application/json`;
    expect(answered).toEqual([
      expect.stringContaining(said("/v1/predict/activity-player_1", 'Content-Type \\"text/plain;charset=UTF-8\\"')),
      expect.stringContaining(
        said("/v1/predict/activity-player_1", 'Content-Type \\"application/x-www-form-urlencoded\\"'),
      ),
      expect.stringContaining(said("/v1/predict/activity-player_1", "a body with no Content-Type")),
      expect.stringContaining(
        said("/v2/models/activity-player_1/infer", 'Content-Type \\"text/plain;charset=UTF-8\\"'),
      ),
      expect.stringContaining(
        said("/v2/models/activity-player_1/infer", 'Content-Type \\"application/x-www-form-urlencoded\\"'),
      ),
      expect.stringContaining(said("/v2/models/activity-player_1/infer", "a body with no Content-Type")),
    ]);
    expect(answered.every((line) => line.includes('-> 415 {"code":"unsupported_media_type"'))).toBe(true);
    expect(await counts()).toEqual(before);
    // The same body as JSON, with a charset, is answered: the refusals above are the type's.
    const json = await page("/v1/predict/activity-player_1", fresh, "application/json; charset=utf-8");
    expect(json.status).toBe(200);
  });

  test("/v2/models/NAME/ready: 200 serving, 404 no such model, 503 a known model not serving", async () => {
    const ready = async (name: string) => {
      const response = await fetch(`${daemon.url}/v2/models/${name}/ready`);
      return [response.status, await response.json()];
    };
    expect(await ready("activity-player_1")).toEqual([200, { name: "activity-player_1", ready: true }]);
    const unknown = await fetch(`${daemon.url}/v2/models/activity-player_99`);
    expect(await ready("activity-player_99")).toEqual([404, await unknown.json()]);
    expect(unknown.status).toBe(404);
    // A version imported without activating it: the model is known, none of its versions serves.
    const detail = await (await fetch(`${daemon.url}/v1/models/activity-player_1`)).json();
    const file = readFileSync((detail as { versions: Array<{ path: string }> }).versions[0]!.path);
    const imported = await fetch(`${daemon.url}/v1/models/spare/versions?file=model.onnx`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream" },
      body: file,
    });
    expect(imported.status).toBe(201);
    expect(await ready("spare")).toEqual([503, { name: "spare", ready: false }]);
  });

  test("/metrics is valid Prometheus text; /openapi describes the routes", async () => {
    const metrics = await fetch(`${daemon.url}/metrics`);
    expect(metrics.headers.get("content-type")).toContain("text/plain");
    const text = await metrics.text();
    expect(text).toMatch(/edgetrain_predictions_total\{model="activity-player_1",code="ok"\} \d+/);
    // Unknown and misspelled models count without their name; a refusal by the model counts under it.
    expect(text).toMatch(/edgetrain_predictions_total\{model="",code="not_found"\} [1-9]\d*/);
    expect(text).toMatch(/edgetrain_predictions_total\{model="activity-player_1",code="bad_input"\} [1-9]\d*/);
    expect(text).not.toContain('model="activity-player_99"');
    expect(text).toMatch(/edgetrain_model_active_version\{model="activity-player_2"\} 1/);
    expect(text).toMatch(/edgetrain_prediction_duration_seconds_bucket\{le="\+Inf",model="activity-player_1"\} [1-9]/);
    const promtool = Bun.which("promtool");
    // CI installs it (Debian's prometheus package); elsewhere the check runs where it is found.
    if (!promtool && process.env.CI) throw new Error("promtool is missing: .ci/run installs the prometheus package");
    if (promtool) {
      const check = Bun.spawnSync([promtool, "check", "metrics"], { stdin: new TextEncoder().encode(text) });
      expect([check.exitCode, check.stdout.toString() + check.stderr.toString()]).toEqual([0, ""]);
    }
    const spec = (await (await fetch(`${daemon.url}/openapi`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: unknown }>>;
    };
    expect(spec.openapi).toStartWith("3.");
    for (const path of [
      "/v1/predict/{name}",
      "/v1/models/{name}/activate",
      "/v1/jobs/{name}/run",
      "/v1/events",
      "/v1/cache",
    ])
      expect(Object.keys(spec.paths)).toContain(path);
    expect(JSON.stringify(spec.paths["/v1/predict/{name}"]!.post!.requestBody)).toContain("inputs");
  });

  test(
    "/v1/status and /metrics count session loads, sessions not kept and evictions, and the memory " + "kept",
    async () => {
      const fresh = row.map((value) => value + 0.5);
      for (const model of ["activity-player_1", "activity-player_2"])
        expect((await post(`/v1/predict/${model}`, { inputs: [fresh] })).status).toBe(200);
      type Sessions = {
        loaded: number;
        bytes: number;
        budget_bytes: number;
        loads: number;
        not_kept: number;
        evictions: number;
      };
      const { inference } = (await (await fetch(`${daemon.url}/v1/status`)).json()) as {
        inference: { sessions: Sessions };
      };
      const { sessions } = inference;
      // Both models' active versions are kept (activations and rollbacks loaded some more along the way).
      expect(sessions.loaded).toBeGreaterThanOrEqual(2);
      expect(sessions.loads).toBeGreaterThanOrEqual(sessions.loaded);
      expect(sessions).toMatchObject({ budget_bytes: 512 * 1_048_576, not_kept: 0, evictions: 0 });
      expect(sessions.bytes).toBeGreaterThan(0);
      const text = await (await fetch(`${daemon.url}/metrics`)).text();
      expect(text).toContain(`\nedgetrain_session_loads_total ${sessions.loads}\n`);
      expect(text).toContain("\nedgetrain_session_loads_not_kept_total 0\n");
      expect(text).toContain("\nedgetrain_session_evictions_total 0\n");
      expect(text).toContain(`\nedgetrain_session_bytes ${sessions.bytes}\n`);
      expect(text).toContain(`\nedgetrain_session_budget_bytes ${512 * 1_048_576}\n`);
    },
  );
  test("Open Inference Protocol requests count as predictions, by model and code, as /v1/predict's do", async () => {
    const scrape = async () => {
      const text = await (await fetch(`${daemon.url}/metrics`)).text();
      const counts = new Map<string, number>();
      for (const [, labels, value] of text.matchAll(/^edgetrain_predictions_total\{(.*)\} (\d+)$/gm))
        counts.set(labels!, Number(value));
      const timed = /^edgetrain_prediction_duration_seconds_count\{model="activity-player_2"\} (\d+)$/m.exec(text);
      return { counts, timed: Number(timed?.[1] ?? 0) };
    };
    const delta = (before: Map<string, number>, after: Map<string, number>) =>
      Object.fromEntries(
        [...after]
          .filter(([key, n]) => n !== (before.get(key) ?? 0))
          .map(([key, n]) => [key, n - (before.get(key) ?? 0)]),
      );
    const model = "activity-player_2";
    const tensor = (data: number[], datatype = "FP32") => ({
      inputs: [{ name: "features", shape: [1, data.length], datatype, data }],
    });
    const v1 = async () => {
      expect((await post(`/v1/predict/${model}`, { inputs: [row.map((x) => x + 0.25)] })).status).toBe(200);
      expect((await post(`/v1/predict/${model}`, { inputs: [[1, 2]] })).status).toBe(400);
      expect((await post("/v1/predict/activity-player_99", { inputs: [row] })).status).toBe(404);
    };
    const v2 = async () => {
      expect((await post(`/v2/models/${model}/infer`, tensor(row))).status).toBe(200);
      expect((await post(`/v2/models/${model}/infer`, tensor(row, "INT64"))).status).toBe(400);
      expect((await post("/v2/models/activity-player_99/infer", tensor(row))).status).toBe(404);
    };
    const counted = async (requests: () => Promise<void>) => {
      const before = await scrape();
      await requests();
      const after = await scrape();
      return { counts: delta(before.counts, after.counts), timed: after.timed - before.timed };
    };
    const expected = {
      counts: {
        [`model="${model}",code="ok"`]: 1,
        [`model="${model}",code="bad_input"`]: 1,
        'model="",code="not_found"': 1,
      },
      timed: 1,
    };
    expect(await counted(v1)).toEqual(expected);
    expect(await counted(v2)).toEqual(expected);
  });
});
