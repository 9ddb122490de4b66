import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import mqtt from "mqtt";
import type { FleetModelScores } from "../../runtime/api/fleet-contract.ts";
import { Daemon } from "../../runtime/daemon.ts";
import { scoreReport } from "../../runtime/fleet/agent/score-report.ts";
import type { Hub } from "../../runtime/fleet/hub/hub.ts";
import { SCORE_SUMMARIES_KEPT } from "../../runtime/fleet/hub/score-summaries.ts";
import { SCORE_MAX_CLASSES, type ScoreReport, topics } from "../../runtime/fleet/protocol.ts";
import { HEADER, homeWithModels, rowsText } from "../batch-scoring/fixture.ts";
import { tempDir, testEnvironment, waitUntil } from "../helpers.ts";
import { api, startHub } from "./hub-fixture.ts";
import { startMosquitto } from "./mosquitto.ts";

const DEVICE = "scorer-1";

/** `nightly` scores the incoming files with the classifier, `pacing` with the regression into its own folder. */
const SCORE_JOBS = `  nightly:
    score: predictions
    model: activity
    data: { source: rows, path: incoming, debounce: 0 }
  pacing:
    score: predictions
    model: pace
    options: { dir: paced }
    data: { source: rows, path: incoming, debounce: 0 }
`;

/** The score reports the hub accepted, as received. */
const storedScores = (hub: Hub) =>
  hub.registry.db
    .query<{ data: string }, []>("SELECT data FROM reports WHERE kind = 'score' ORDER BY at")
    .all()
    .map((row) => JSON.parse(row.data) as ScoreReport);

const scoresOf = async (hub: Hub, model: string, query = "") => {
  const { status, json } = await api(hub, "GET", `/v1/fleet/models/${model}/scores${query}`);
  expect(status).toBe(200);
  return json as FleetModelScores;
};

/** A score report as a device sends it, with `figures` over a classifier's defaults. */
const scoreReportOf = (device: string, id: string, figures: Partial<ScoreReport> = {}): ScoreReport => ({
  kind: "score",
  id,
  device,
  at: new Date().toISOString(),
  run: `run-${id}`,
  job: "nightly",
  model: "activity",
  version: 1,
  rows: 10,
  files: 1,
  classes: { run: 4, walk: 6 },
  skipped: 0,
  ...figures,
});

const sendOverHttp = (hub: Hub, device: string, report: unknown) =>
  fetch(`${hub.url}/api/v1/edge-devices/${device}/reports`, {
    method: "POST",
    headers: { authorization: `Bearer ${hub.deviceKey}`, "content-type": "application/json" },
    body: JSON.stringify(report),
  });

describe("score summaries from devices to the hub", () => {
  test("a device's score runs reach a real hub over Mosquitto: class histogram and value statistics", async () => {
    await using broker = await startMosquitto();
    await using dir = tempDir();
    await using hubHome = tempDir();
    await using hub = await startHub(hubHome.path, { broker: broker.url });
    const fleet = JSON.stringify({ device_id: DEVICE, broker: broker.url, heartbeat_interval: "1s" });
    const home = await homeWithModels(dir, SCORE_JOBS, `api: { port: 0 }\nfleet: ${fleet}\n`);
    dir.write("home/data/incoming/day1.csv", `${HEADER}\n${rowsText(800, 1, false)}`);
    const daemon = await Daemon.start({
      profile: join(home, "profile.yaml"),
      environment: testEnvironment(home),
      headless: true,
    });
    try {
      const run = (job: string) =>
        fetch(`${daemon.address().url}/v1/jobs/${job}/run`, {
          method: "POST",
          headers: { authorization: `Bearer ${daemon.token()}`, "content-type": "application/json" },
          body: JSON.stringify({ force: true }),
        });
      expect((await run("nightly")).status).toBe(202);
      expect((await run("pacing")).status).toBe(202);
      await waitUntil(async () => (await scoresOf(hub, "activity")).devices.length === 1, 60_000);
      await waitUntil(async () => (await scoresOf(hub, "pace")).devices.length === 1, 60_000);

      const predicted = readFileSync(join(home, "data/incoming/day1.predictions.csv"), "utf8")
        .trimEnd()
        .split("\n")
        .slice(1)
        .map((line) => line.split(",")[1]!);
      const histogram = {
        run: predicted.filter((label) => label === "run").length,
        walk: predicted.filter((label) => label === "walk").length,
      };
      const activity = await scoresOf(hub, "activity");
      expect(activity.devices).toEqual([{ device: DEVICE, summaries: [expect.any(Object)] }]);
      const [classified] = activity.devices[0]!.summaries;
      // Both models were trained on the device: the hub has no number for them, so no version pools them.
      expect(classified).toMatchObject({
        job: "nightly",
        key: null,
        version: null,
        local_version: 1,
        rows: 800,
        files: 1,
        classes: histogram,
        other_rows: null,
        values: null,
        skipped: 0,
      });
      expect(activity.versions).toEqual([]);
      const pace = await scoresOf(hub, "pace");
      const [valued] = pace.devices[0]!.summaries;
      expect(valued).toMatchObject({ job: "pacing", version: null, local_version: 1, rows: 800, classes: null });
      expect(valued!.values).toMatchObject({ count: 800 });
      expect(valued!.values!.min).toBeLessThanOrEqual(valued!.values!.mean);
      expect(valued!.values!.std).toBeGreaterThan(0);
      expect(pace.versions).toEqual([]);

      // The same report again (a device that never saw the broker's acknowledgement) is dropped.
      const sent = storedScores(hub).find((report) => report.job === "nightly")!;
      const resend = await mqtt.connectAsync(broker.url, { clientId: "resend" });
      await resend.publishAsync(topics.reports(DEVICE), JSON.stringify(sent), { qos: 1 });
      await resend.endAsync();
      const duplicates = 'edgetrain_hub_reports_total{kind="score",duplicate="yes"} 1';
      await waitUntil(async () => (await (await fetch(`${hub.url}/metrics`)).text()).includes(duplicates));
      expect((await scoresOf(hub, "activity")).devices[0]!.summaries).toHaveLength(1);
    } finally {
      await daemon.stop();
    }
  }, 180_000);

  test("summaries go under the hub's number of the version that scored, not the device's own", async () => {
    await using broker = await startMosquitto();
    await using dir = tempDir();
    await using hubHome = tempDir();
    await using hub = await startHub(hubHome.path, { broker: broker.url });
    const fleet = JSON.stringify({ device_id: DEVICE, broker: broker.url, trust: [hub.keys.publicKey] });
    const home = await homeWithModels(dir, SCORE_JOBS, `api: { port: 0 }\nfleet: ${fleet}\n`);
    dir.write("home/data/incoming/day1.csv", `${HEADER}\n${rowsText(200, 1, false)}`);
    const daemon = await Daemon.start({
      profile: join(home, "profile.yaml"),
      environment: testEnvironment(home),
      headless: true,
    });
    const score = async (runs: number) => {
      const answer = await fetch(`${daemon.address().url}/v1/jobs/nightly/run`, {
        method: "POST",
        headers: { authorization: `Bearer ${daemon.token()}`, "content-type": "application/json" },
        body: JSON.stringify({ force: true }),
      });
      expect(answer.status).toBe(202);
      await waitUntil(async () => (await scoresOf(hub, "activity")).devices[0]?.summaries.length === runs, 60_000);
    };
    try {
      // Version 1 was trained on the device: the hub has no number for it.
      await score(1);
      // The hub's version 1 of the model (another file) is kept as the device's version 2.
      const trained = readFileSync(join(home, "models/activity/1/model.onnx"));
      const upload = await fetch(`${hub.url}/v1/fleet/models/activity`, {
        method: "POST",
        headers: { authorization: `Bearer ${hub.token}` },
        body: new Uint8Array([...trained, 0x78, 1]),
      });
      expect(upload.status).toBe(201);
      await waitUntil(() => hub.registry.device(DEVICE)?.registered === true, 20_000);
      const rollout = await api(hub, "POST", "/v1/fleet/rollouts", { model: "activity", waves: [1] });
      expect(rollout.status).toBe(201);
      const state = async () => (await api(hub, "GET", `/v1/fleet/rollouts/${rollout.json.id}`)).json;
      await waitUntil(async () => (await state()).state === "completed", 30_000);
      expect((await state()).counts.activated).toBe(1);
      dir.write("home/data/incoming/day2.csv", `${HEADER}\n${rowsText(300, 2, false)}`);
      await score(2);

      const activity = await scoresOf(hub, "activity");
      expect(activity.devices[0]!.summaries.map((s) => [s.version, s.local_version])).toEqual([
        [1, 2],
        [null, 1],
      ]);
      expect(activity.versions).toEqual([expect.objectContaining({ version: 1, devices: 1, runs: 1, rows: 300 })]);
      const onV1 = await scoresOf(hub, "activity", "?version=1");
      expect(onV1.devices[0]!.summaries.map((s) => s.local_version)).toEqual([2]);
      expect((await scoresOf(hub, "activity", "?version=2")).devices).toEqual([]);
    } finally {
      await daemon.stop();
    }
  }, 180_000);

  test("a malformed score report is refused with the path of what is wrong, and not kept", async () => {
    await using hubHome = tempDir();
    await using hub = await startHub(hubHome.path);
    const good = scoreReportOf(DEVICE, "score-1");
    const send = (report: unknown) => sendOverHttp(hub, DEVICE, report);
    const tooMany = Object.fromEntries(Array.from({ length: SCORE_MAX_CLASSES + 1 }, (_, i) => [`c${i}`, 1]));
    for (const [bad, path] of [
      [{ ...good, id: "bad-1", classes: tooMany }, "classes"],
      [{ ...good, id: "bad-2", rows: -1 }, "rows"],
      [{ ...good, id: "bad-3", values: { count: 3, mean: 1 } }, "values.std"],
    ] as const) {
      const answer = await send(bad);
      expect(answer.status).toBe(400);
      expect(((await answer.json()) as { message: string }).message).toStartWith(`device ${DEVICE}: ${path}: `);
    }
    expect((await scoresOf(hub, "activity")).devices).toEqual([]);
    expect((await send(good)).status).toBe(200);
    expect((await scoresOf(hub, "activity")).devices).toMatchObject([
      { device: DEVICE, summaries: [{ report: "score-1", classes: { run: 4, walk: 6 } }] },
    ]);
    const bad = await api(hub, "GET", "/v1/fleet/models/activity/scores?limit=0");
    expect(bad.status).toBe(400);
  });

  test("the fleet's figures per version pool every device's; each device keeps its latest summaries", async () => {
    await using hubHome = tempDir();
    await using hub = await startHub(hubHome.path);
    const at = (minute: number) => new Date(Date.UTC(2026, 11, 1, 0, minute)).toISOString();
    const reports = [
      scoreReportOf("dev-a", "a-1", { at: at(1), classes: { run: 4, walk: 6 } }),
      scoreReportOf("dev-b", "b-1", { at: at(2), classes: { run: 1, walk: 8 }, other_rows: 1 }),
      scoreReportOf("dev-b", "b-2", { at: at(3), version: 2, classes: { run: 9, sit: 1 } }),
      scoreReportOf("dev-a", "p-1", { at: at(1), model: "pace", classes: undefined, values: stats([1, 2, 3]) }),
      scoreReportOf("dev-b", "p-2", { at: at(2), model: "pace", classes: undefined, values: stats([10, 20]) }),
    ];
    for (const report of reports) expect((await sendOverHttp(hub, report.device, report)).status).toBe(200);

    const activity = await scoresOf(hub, "activity");
    expect(activity.devices.map((d) => [d.device, d.summaries.map((s) => s.report)])).toEqual([
      ["dev-a", ["a-1"]],
      ["dev-b", ["b-2", "b-1"]],
    ]);
    const none = { skipped: 0, values: null };
    expect(activity.versions).toEqual([
      { version: 1, devices: 2, runs: 2, rows: 20, classes: { run: 5, walk: 14 }, other_rows: 1, ...none },
      { version: 2, devices: 1, runs: 1, rows: 10, classes: { run: 9, sit: 1 }, other_rows: null, ...none },
    ]);
    expect((await scoresOf(hub, "activity", "?version=2")).devices).toMatchObject([{ device: "dev-b" }]);
    const pooled = (await scoresOf(hub, "pace")).versions[0]!.values!;
    const all = stats([1, 2, 3, 10, 20]);
    expect(pooled).toMatchObject({ count: 5, min: 1, max: 20 });
    expect(pooled.mean).toBeCloseTo(all.mean, 10);
    expect(pooled.std).toBeCloseTo(all.std, 10);

    // Past SCORE_SUMMARIES_KEPT a device's oldest summaries of a model go; the other devices' stay.
    for (let i = 0; i < SCORE_SUMMARIES_KEPT; i++) {
      const report = scoreReportOf("dev-a", `a-later-${i}`, { at: at(10 + i) });
      expect((await sendOverHttp(hub, "dev-a", report)).status).toBe(200);
    }
    const kept = await scoresOf(hub, "activity", `?limit=${SCORE_SUMMARIES_KEPT}`);
    const ofA = kept.devices.find((d) => d.device === "dev-a")!.summaries.map((s) => s.report);
    expect(ofA).toHaveLength(SCORE_SUMMARIES_KEPT);
    expect(ofA[0]).toBe(`a-later-${SCORE_SUMMARIES_KEPT - 1}`);
    expect(ofA).not.toContain("a-1");
    expect(kept.devices.find((d) => d.device === "dev-b")!.summaries).toHaveLength(2);
    expect((await scoresOf(hub, "activity")).devices[0]!.summaries).toHaveLength(10);
    expect((await scoresOf(hub, "pace")).devices).toHaveLength(2);
  });

  test("the agent's report keeps the most frequent classes and counts the rest", () => {
    const classes = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`class-${i}`, i + 1]));
    const summary = {
      run: "r",
      job: "nightly",
      key: null,
      model: "activity",
      version: 3,
      rows: 820,
      files: [{ input: "a.csv", output: "a.predictions.csv", rows: 820 }],
      classes: { ...classes, ["x".repeat(500)]: 0 },
      skipped: 0,
      skipped_examples: [],
      seconds: 1,
      rows_per_s: 820,
    };
    const report = scoreReport(summary, 2);
    if ("refused" in report) throw new Error(report.refused);
    expect(Object.keys(report.classes!)).toHaveLength(SCORE_MAX_CLASSES);
    expect(report.classes!["class-39"]).toBe(40);
    expect(report.classes!["class-0"]).toBeUndefined();
    // Left out: class-0 to class-7 (1 to 8 rows each) and the long label (none).
    expect(report.other_rows).toBe(36);
    expect(report).toMatchObject({ kind: "score", files: 1, version: 3, fleet_version: 2 });
    expect(report.key).toBeUndefined();

    // A report the hub would refuse stays out of the outbox, where it would block the reports after it.
    const predictedNaN = { ...summary, classes: undefined, values: { count: 3, mean: NaN, std: NaN, min: 1, max: 2 } };
    expect(scoreReport(predictedNaN, null)).toEqual({ refused: expect.stringMatching(/^values\.mean: /) });
    const infinite = { ...summary, classes: undefined, values: { count: 3, mean: 1, std: 1, min: 1, max: Infinity } };
    expect(scoreReport(infinite, null)).toEqual({ refused: expect.stringMatching(/^values\.max: /) });
  });
});

/** Count, mean, population standard deviation, min and max, as a device's tally gives them. */
function stats(values: number[]) {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
  return { count: values.length, mean, std, min: Math.min(...values), max: Math.max(...values) };
}
