import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { ProfileSchema } from "../../runtime/config/schema.ts";
import { runCli, tempDir } from "../helpers.ts";
import { HEADER, homeWithModels, rowsText, train } from "./fixture.ts";

const scoreJob = (
  name: string,
  options: string,
  data = "{ source: rows, path: incoming, debounce: 0 }",
  model = "activity",
) => `  ${name}:\n    score: predictions\n    model: ${model}\n    options: ${options}\n    data: ${data}\n`;

const csvRows = (file: string) =>
  readFileSync(file, "utf8")
    .trimEnd()
    .split("\n")
    .map((line) => line.split(","));

/** Temporary files of an interrupted or failed write, anywhere under `dir`. */
const partials = (dir: string) =>
  readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((name) => name.endsWith(".partial"));

describe("a score job", () => {
  test("writes CSV predictions beside each new file: line, columns asked for, prediction, model version", async () => {
    await using dir = tempDir();
    const home = await homeWithModels(dir, scoreJob("nightly", "{ columns: [id], probabilities: true }"));
    dir.write("home/data/incoming/day1.csv", `${HEADER}\n${rowsText(3000, 1, false)}`);
    const [run] = await train(home, "nightly");
    expect(run).toMatchObject({ status: "succeeded", metrics: { rows: 3000, files: 1, version: 1, skipped: 0 } });
    const output = join(home, "data/incoming/day1.predictions.csv");
    const [header, ...rows] = csvRows(output);
    expect(header).toEqual(["line", "id", "prediction", "p_run", "p_walk", "model", "version"]);
    expect(rows).toHaveLength(3000);
    expect(rows[0]!.slice(0, 2)).toEqual(["2", "r1-0"]);
    expect(rows.at(-1)!.slice(0, 2)).toEqual(["3001", "r1-2999"]);
    expect(new Set(rows.map((row) => `${row[5]}@${row[6]}`))).toEqual(new Set(["activity@1"]));
    // The model learned the rule the rows follow; its classes are the summary's histogram.
    const input = readFileSync(join(home, "data/incoming/day1.csv"), "utf8")
      .trimEnd()
      .split("\n")
      .slice(1)
      .map((line) => Number(line.split(",")[1]));
    const right = rows.filter((row, i) => row[2] === (input[i]! > 120 ? "run" : "walk")).length;
    expect(right / rows.length).toBeGreaterThan(0.95);
    const counts = {
      run: rows.filter((row) => row[2] === "run").length,
      walk: rows.filter((row) => row[2] === "walk").length,
    };
    expect((run!.score as { classes: Record<string, number> }).classes).toEqual(counts);
    for (const row of rows) expect(Number(row[3]) + Number(row[4])).toBeCloseTo(1, 4);

    // Runs are recorded like training runs; a second run finds nothing new, a new file is scored alone.
    const listed = JSON.parse(
      (await runCli(["runs", "--home", home, "--job", "nightly", "--json"], { home })).stdout,
    ) as Array<{ strategy: string; metrics: Record<string, number> }>;
    expect(listed[0]).toMatchObject({ strategy: "predictions", metrics: { rows: 3000, files: 1 } });
    const again = await train(home, "nightly");
    expect(again[0]!.metrics).toMatchObject({ rows: 0, files: 0 });
    // A newer version of the model serves the next file; its rows say so.
    expect((await train(home, "activity"))[0]).toMatchObject({ deployment: { version: 2, status: "activated" } });
    dir.write("home/data/incoming/day2.csv", `${HEADER}\n${rowsText(500, 2, false)}`);
    const [second] = await train(home, "nightly");
    expect(second).toMatchObject({ metrics: { rows: 500, files: 1, version: 2 } });
    expect(
      new Set(
        csvRows(join(home, "data/incoming/day2.predictions.csv"))
          .slice(1)
          .map((row) => row[6]),
      ),
    ).toEqual(new Set(["2"]));
    expect(
      csvRows(output)
        .slice(1)
        .every((row) => row[6] === "1"),
    ).toBe(true);
    // The predictions are not data: neither a training job nor a score job reads them.
    const table = await runCli(["runs", "--home", home, "--job", "nightly"], { home });
    expect(table.stdout).toMatch(/nightly\s+-\s+succeeded\s+manual: edgetrain train --force .*rows 500, files 1/);
  }, 120_000);

  test("writes JSON lines into a folder, and keeps a regression's value statistics", async () => {
    await using dir = tempDir();
    const home = await homeWithModels(
      dir,
      scoreJob(
        "paces",
        "{ format: jsonl, dir: predictions, columns: [id] }",
        "{ source: rows, path: incoming, key_from: file, debounce: 0 }",
        "pace",
      ),
    );
    dir.write("home/data/incoming/a.csv", `${HEADER}\n${rowsText(800, 3, false)}`);
    dir.write("home/data/incoming/b.csv", `${HEADER}\n${rowsText(200, 4, false)}`);
    // key_from: file makes each file a key; the model is named without one.
    const runs = await train(home, "paces");
    expect(runs.map((run) => [run.key, run.status])).toEqual([
      ["a", "succeeded"],
      ["b", "succeeded"],
    ]);
    const lines = readFileSync(join(home, "predictions/incoming/a.predictions.jsonl"), "utf8")
      .trimEnd()
      .split("\n")
      .map(
        (line) => JSON.parse(line) as { line: number; id: string; prediction: number; model: string; version: number },
      );
    expect(lines).toHaveLength(800);
    expect(lines[0]).toMatchObject({ line: 2, id: "r3-0", model: "pace", version: 1 });
    expect(lines.every((row) => row.model === "pace" && row.version === 1 && typeof row.prediction === "number")).toBe(
      true,
    );
    const values = lines.map((row) => row.prediction);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const stats = (runs[0]!.score as { values: { count: number; mean: number; min: number; max: number } }).values;
    expect(stats.count).toBe(800);
    expect(stats.mean).toBeCloseTo(mean, 3);
    expect(stats.min).toBeCloseTo(Math.min(...values), 4);
    expect(stats.max).toBeCloseTo(Math.max(...values), 4);
    expect(existsSync(join(home, "data/incoming/a.predictions.jsonl"))).toBe(false);
  }, 120_000);

  test("a bad cell fails the run naming file, line and column, writing nothing; skip-row names what it left " +
    "out", async () => {
    await using dir = tempDir();
    const home = await homeWithModels(
      dir,
      scoreJob("strict", "{}") +
        scoreJob("lenient", "{}", "{ source: rows, path: incoming, debounce: 0, on_bad_cell: skip-row }"),
    );
    const rows = rowsText(20, 5, false).split("\n");
    rows[2] = "r5-2,n/a,1.5";
    dir.write("home/data/incoming/bad.csv", `${HEADER}\n${rows.join("\n")}`);
    const [failed] = await train(home, "strict");
    expect(failed!.status).toBe("failed");
    expect(failed!.error).toBe('incoming/bad.csv line 4: column hr is not a number: "n/a"');
    const listed = JSON.parse(
      (await runCli(["runs", "--home", home, "--job", "strict", "--json"], { home })).stdout,
    ) as Array<{ status: string; error: string }>;
    expect(listed[0]).toMatchObject({
      status: "failed",
      error: 'incoming/bad.csv line 4: column hr is not a number: "n/a"',
    });
    expect(existsSync(join(home, "data/incoming/bad.predictions.csv"))).toBe(false);
    expect(partials(join(home, "data"))).toEqual([]);
    // Not marked as scored: once the file is mended, the next run scores it.
    writeFileSync(join(home, "data/incoming/bad.csv"), `${HEADER}\n${rowsText(20, 5, false)}`);
    expect((await train(home, "strict"))[0]).toMatchObject({ status: "succeeded", metrics: { rows: 20 } });

    writeFileSync(join(home, "data/incoming/bad.csv"), `${HEADER}\n${rows.join("\n")}`);
    const [lenient] = await train(home, "lenient");
    expect(lenient).toMatchObject({ status: "succeeded", metrics: { rows: 19, skipped: 1 } });
    expect((lenient!.score as { skipped_examples: string[] }).skipped_examples).toEqual([
      'incoming/bad.csv line 4: column hr is not a number: "n/a"',
    ]);
    expect(
      csvRows(join(home, "data/incoming/bad.predictions.csv"))
        .slice(1)
        .map((row) => row[0]),
    ).not.toContain("4");
  }, 120_000);

  test("a process killed while writing leaves no half predictions file; the next run writes it whole", async () => {
    await using dir = tempDir();
    const home = await homeWithModels(dir, scoreJob("nightly", "{ columns: [id] }"));
    const block = rowsText(20_000, 6, false);
    dir.write("home/data/incoming/day.csv", `${HEADER}\n${block.repeat(40)}`);
    const incoming = join(home, "data/incoming");
    const child = Bun.spawn(
      [
        process.execPath,
        join(import.meta.dir, "../../runtime/cli/main.ts"),
        "train",
        "nightly",
        "--home",
        home,
        "--force",
      ],
      { env: { PATH: process.env.PATH, HOME: home }, stdout: "ignore", stderr: "ignore" },
    );
    const deadline = Date.now() + 60_000;
    while (partials(incoming).length === 0 && Date.now() < deadline && child.exitCode === null) await Bun.sleep(5);
    expect(partials(incoming)).toHaveLength(1);
    child.kill("SIGKILL");
    await child.exited;
    expect(child.signalCode).toBe("SIGKILL");
    expect(readdirSync(incoming).filter((name) => name.endsWith(".predictions.csv"))).toEqual([]);
    const [run] = await train(home, "nightly");
    expect(run).toMatchObject({ status: "succeeded", metrics: { rows: 800_000 } });
    expect(csvRows(join(incoming, "day.predictions.csv"))).toHaveLength(800_001);
    // The killed run's temporary file went with the next write of the same output.
    expect(partials(incoming)).toEqual([]);
  }, 180_000);

  test("scores with a model added by models add, whose features are written in it; without one it says " +
    "so", async () => {
    await using dir = tempDir();
    const jobs = scoreJob("orphan", "{}", undefined, "nobody") + scoreJob("imported", "{}", undefined, "added");
    const home = await homeWithModels(dir, jobs);
    dir.write("home/data/incoming/day1.csv", `${HEADER}\n${rowsText(10, 1, false)}`);
    const [orphan] = await train(home, "orphan");
    expect(orphan).toMatchObject({
      status: "failed",
      error: "job orphan: model nobody has no active version to score with",
    });
    // `edgetrain fit` writes the task and feature names into the file; `models add` without --features keeps none.
    const model = join(dir.path, "added.onnx");
    const data = dir.write("fit.csv", `${HEADER},label\n${rowsText(500, 3).replaceAll(/,[0-9.]+$/gm, "")}`);
    const fit = ["fit", "--strategy", "random-forest", "--data", data, "--set", "n_estimators=4", "--out", model];
    expect((await runCli(fit, { home })).code).toBe(0);
    expect((await runCli(["models", "add", "added", model, "--activate", "--home", home], { home })).code).toBe(0);
    const [imported] = await train(home, "imported");
    expect(imported).toMatchObject({ status: "succeeded", metrics: { rows: 10, version: 1 } });
    expect(csvRows(join(home, "data/incoming/day1.predictions.csv"))[1]).toEqual([
      "2",
      expect.stringMatching(/^(run|walk)$/),
      "added",
      "1",
    ]);
  }, 60_000);
});

test("the profile says what a score job lacks, and that a job is either a strategy or a score job", () => {
  const problems = (job: Record<string, unknown>) => {
    const result = v.safeParse(ProfileSchema, { jobs: { j: job } }, { abortEarly: false });
    return result.success ? [] : result.issues.map((issue) => [v.getDotPath(issue), issue.message]);
  };
  expect(problems({ score: "predictions", model: "m", data: { source: "rows", path: "in" } })).toEqual([]);
  expect(problems({ score: "predictions", data: { source: "rows", path: "in" } })).toEqual([
    ["jobs.j.model", 'missing required key "model": the model whose active version a score job runs'],
  ]);
  expect(problems({ score: "predictions", model: "m" })).toEqual([
    ["jobs.j.data", 'missing required key "data": the files a score job scores'],
  ]);
  expect(
    problems({ strategy: "random-forest", score: "predictions", model: "m", data: { source: "rows", path: "in" } }),
  ).toEqual([["jobs.j.score", "a job names a strategy (training) or score (batch scoring), not both"]]);
  expect(problems({ score: "predictions", model: "m", data: { source: "rows", path: "in", key_column: "k" } })).toEqual(
    [["jobs.j.data", "a score job keys its data by session folder or by file (key_from: file), not by key_column"]],
  );
});
