import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Daemon } from "../../runtime/daemon.ts";
import { scoreReport } from "../../runtime/fleet/agent/score-report.ts";
import { SCORE_MAX_CLASSES, type ScoreReport } from "../../runtime/fleet/protocol.ts";
import { HEADER, homeWithModels, rowsText } from "../batch-scoring/fixture.ts";
import { tempDir, testEnvironment, waitUntil } from "../helpers.ts";
import { startHub } from "./hub-fixture.ts";
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

const storedScores = (hub: { registry: { db: import("bun:sqlite").Database } }) =>
  hub.registry.db
    .query<{ data: string }, []>("SELECT data FROM reports WHERE kind = 'score' ORDER BY at")
    .all()
    .map((row) => JSON.parse(row.data) as ScoreReport);

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
      await waitUntil(() => storedScores(hub).length === 2, 60_000);

      const predicted = readFileSync(join(home, "data/incoming/day1.predictions.csv"), "utf8")
        .trimEnd()
        .split("\n")
        .slice(1)
        .map((line) => line.split(",")[1]!);
      const histogram = {
        run: predicted.filter((label) => label === "run").length,
        walk: predicted.filter((label) => label === "walk").length,
      };
      const [classified, valued] = ["nightly", "pacing"].map((job) => storedScores(hub).find((r) => r.job === job)!);
      expect(classified).toMatchObject({
        kind: "score",
        device: DEVICE,
        model: "activity",
        version: 1,
        rows: 800,
        files: 1,
        classes: histogram,
        skipped: 0,
      });
      expect(classified!.values).toBeUndefined();
      expect(valued).toMatchObject({ model: "pace", version: 1, rows: 800, files: 1, values: { count: 800 } });
      expect(valued!.values!.min).toBeLessThanOrEqual(valued!.values!.mean);
      expect(valued!.values!.std).toBeGreaterThan(0);
    } finally {
      await daemon.stop();
    }
  }, 180_000);

  test("a malformed score report is refused with the path of what is wrong, and not kept", async () => {
    await using hubHome = tempDir();
    await using hub = await startHub(hubHome.path);
    const good: ScoreReport = {
      kind: "score",
      id: "score-1",
      device: DEVICE,
      at: new Date().toISOString(),
      run: "run-1",
      job: "nightly",
      model: "activity",
      version: 1,
      rows: 10,
      files: 1,
      classes: { run: 4, walk: 6 },
      skipped: 0,
    };
    const send = (report: unknown) =>
      fetch(`${hub.url}/api/v1/edge-devices/${DEVICE}/reports`, {
        method: "POST",
        headers: { authorization: `Bearer ${hub.deviceKey}`, "content-type": "application/json" },
        body: JSON.stringify(report),
      });
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
    expect(storedScores(hub)).toEqual([]);
    expect((await send(good)).status).toBe(200);
    expect(storedScores(hub)).toMatchObject([{ id: "score-1", classes: { run: 4, walk: 6 } }]);
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
    const report = scoreReport(summary);
    expect(Object.keys(report.classes!)).toHaveLength(SCORE_MAX_CLASSES);
    expect(report.classes!["class-39"]).toBe(40);
    expect(report.classes!["class-0"]).toBeUndefined();
    // Classes 1 to 8 (counts 1 to 8) are left out: 36 rows.
    expect(report.other_rows).toBe(36);
    expect(report).toMatchObject({ kind: "score", files: 1, version: 3 });
    expect(report.key).toBeUndefined();
  });
});
