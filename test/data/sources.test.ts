import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import * as v from "valibot";
import { readCsvTable } from "../../runtime/data/csv-table.ts";
import { loadTrainingData } from "../../runtime/data/load-training-data.ts";
import { sessionKeys, sessionWindow } from "../../runtime/data/sessions.ts";
import { DataSourceSpec } from "../../runtime/data/source-spec.ts";
import { tempDir } from "../helpers.ts";

const header = "timestamp,hr,speed,label\n";
const activity = (row: number) => (row % 2 ? "run" : "walk");
const session = (rows: number, offset = 0) =>
  header +
  Array.from(
    { length: rows },
    (_, i) => `2026-01-05T09:00:${String(i % 60).padStart(2, "0")},${100 + i + offset},${(i % 7) / 2},${activity(i)}`,
  ).join("\n") +
  "\n";
const spec = (input: Record<string, unknown>) => v.parse(DataSourceSpec, { debounce: 0, ...input });

describe("sessions source", () => {
  test("the window is the latest N sessions by number, not by name: TR10–TR12 of TR1…TR12", async () => {
    await using dir = tempDir();
    for (let n = 1; n <= 12; n++)
      dir.write(`athletes/player_7/TR${n}_A7_D${String(n).padStart(3, "0")}.csv`, session(5, n));
    dir.write("athletes/player_7/notes.txt", "not a session");
    dir.write("athletes/player_10/TR1_x.csv", session(5));
    dir.write("athletes/player_2/TR1_x.csv", session(5));
    expect(sessionKeys(join(dir.path, "athletes"))).toEqual(["player_2", "player_7", "player_10"]);
    const { window } = sessionWindow(join(dir.path, "athletes/player_7"), "^TR(\\d+)_", 3);
    expect(window.map((s) => s.number)).toEqual([10, 11, 12]);

    const data = await loadTrainingData(spec({ source: "sessions", path: "athletes", sessions_to_use: 3 }), {
      dataRoot: dir.path,
      key: "player_7",
      now: Date.now(),
    });
    expect(data.summary.files).toEqual(["athletes/player_7/TR10_A7_D010.csv", "athletes/player_7/TR11_A7_D011.csv"]);
    expect(data.summary.testFiles).toEqual(["athletes/player_7/TR12_A7_D012.csv"]);
    expect(data.summary.window).toBe("TR10–TR12 (latest 3 of 12 sessions, TR12 held out for testing)");
    expect(data.train.rows).toBe(10);
    expect(data.test!.rows).toBe(5);
    expect(data.train.featureNames).toEqual(["hr", "speed"]);
    expect(data.summary.excludedColumns).toEqual(["timestamp"]);
    // When TR13 lands, the window rolls on.
    dir.write("athletes/player_7/TR13_A7_D013.csv", session(5, 13));
    const rolled = await loadTrainingData(spec({ source: "sessions", path: "athletes", sessions_to_use: 3 }), {
      dataRoot: dir.path,
      key: "player_7",
      now: Date.now(),
    });
    expect(rolled.summary.window).toStartWith("TR11–TR13");
  });
});

describe("a file still being written", () => {
  test("is read only once its size and mtime have been stable for `debounce`", async () => {
    await using dir = tempDir();
    const file = dir.write("athletes/p1/TR1_x.csv", header);
    const writer = (async () => {
      for (let i = 0; i < 8; i++) {
        await Bun.sleep(60);
        await Bun.write(file, `${await Bun.file(file).text()}t,${i},1,walk\n`);
      }
    })();
    await Bun.sleep(30);
    const data = await loadTrainingData(
      spec({ source: "sessions", path: "athletes", holdout: "none", debounce: "300ms" }),
      { dataRoot: dir.path, key: "p1", now: Date.now() },
    );
    await writer;
    expect(data.train.rows).toBe(8);
  });
});

describe("rows source", () => {
  test("keeps only rows inside `last` of now, for one key of a key column", async () => {
    await using dir = tempDir();
    const now = Date.parse("2026-03-01T12:00:00Z");
    const lines = ["timestamp,symbol,price,volume,label"];
    for (let h = 0; h < 48; h++) {
      for (const symbol of ["AAPL", "MSFT"])
        lines.push(`${new Date(now - h * 3_600_000).toISOString()},${symbol},${100 + h},${h * 10},${h / 10}`);
    }
    lines.push(`${new Date(now + 3_600_000).toISOString()},AAPL,1,1,1`); // from the future: left out
    dir.write("prices/2026-03.csv", `${lines.join("\n")}\n`);
    const data = await loadTrainingData(
      spec({ source: "rows", path: "prices", timestamp: "timestamp", last: "6h", key_column: "symbol" }),
      { dataRoot: dir.path, key: "AAPL", now },
    );
    expect(data.train.rows).toBe(7); // hours 0…6 inclusive
    expect(data.train.featureNames).toEqual(["price", "volume"]);
    expect(data.summary.window).toBe("last 6h (7 of 97 rows)");
    expect(data.summary.excludedColumns).toEqual([]);
    const epoch = await loadTrainingData(
      spec({ source: "rows", path: "prices", timestamp: "timestamp", last: "180d" }),
      { dataRoot: dir.path, now },
    );
    expect(epoch.train.rows).toBe(96);
  });

  test("test_path holds out its own files, with the training columns, key and window", async () => {
    await using dir = tempDir();
    dir.write("train/a.csv", "symbol,price,extra,label\nA,1,9,1\nB,2,9,2\nA,3,9,3\n");
    dir.write("holdout/b.csv", "symbol,extra,price,label\nA,0,4,4\nB,0,5,5\n");
    const data = await loadTrainingData(
      spec({ source: "rows", path: "train", test_path: "holdout", key_column: "symbol", exclude: ["extra"] }),
      { dataRoot: dir.path, key: "A", now: 0 },
    );
    expect(data.train.rows).toBe(2);
    expect(data.test!.featureNames).toEqual(["price"]);
    expect(Array.from(data.test!.x)).toEqual([4]);
    expect(data.summary.testFiles).toEqual(["holdout/b.csv"]);
  });

  test("key from file names", async () => {
    await using dir = tempDir();
    dir.write("symbols/AAPL.csv", "t,price,label\n1,2,3\n4,5,6\n");
    dir.write("symbols/MSFT.csv", "t,price,label\n1,2,3\n");
    const data = await loadTrainingData(spec({ source: "rows", path: "symbols", key_from: "file" }), {
      dataRoot: dir.path,
      key: "MSFT",
      now: 0,
    });
    expect(data.summary.files).toEqual(["symbols/MSFT.csv"]);
    expect(data.train.rows).toBe(1);
  });
});

describe("CSV reading", () => {
  test("an empty numeric cell is reported with file, line and column; skip-row skips and lists it", async () => {
    await using dir = tempDir();
    const rows = Array.from(
      { length: 500 },
      (_, i) => `t${i},${i === 416 ? "" : i},${i === 430 ? "fast" : i * 2},walk`,
    );
    const file = dir.write("player_3/TR2_x.csv", `timestamp,hr,speed,label\n${rows.join("\n")}\n`);
    await expect(readCsvTable([file], { label: "label", onBadCell: "fail", displayRoot: dir.path })).rejects.toThrow(
      "player_3/TR2_x.csv line 418: column hr is empty",
    );
    const table = await readCsvTable([file], { label: "label", onBadCell: "skip-row", displayRoot: dir.path });
    expect(table.labels.length).toBe(498);
    expect(table.skipped).toEqual([
      "player_3/TR2_x.csv line 418: column hr is empty",
      'player_3/TR2_x.csv line 432: column speed is not a number: "fast"',
    ]);
  });

  test("quoted fields and CRLF are parsed by a real CSV parser; features can be chosen or excluded", async () => {
    await using dir = tempDir();
    const file = dir.write("a.csv", 'name,"hr",speed,label\r\n"Smith, J.",90,2.5,run\r\n"Doe, A.",70,1.0,walk\r\n');
    const table = await readCsvTable([file], { label: "label", onBadCell: "fail", exclude: ["speed"] });
    expect(table.featureNames).toEqual(["hr"]);
    expect(table.excludedColumns).toEqual(["name"]);
    expect(Array.from(table.x)).toEqual([90, 70]);
    const chosen = await readCsvTable([file], { label: "label", onBadCell: "fail", features: ["speed", "hr"] });
    expect(Array.from(chosen.x)).toEqual([2.5, 90, 1, 70]);
  });

  test("a missing label column, an empty file and a header without rows are clear errors", async () => {
    await using dir = tempDir();
    const noLabel = dir.write("n.csv", "a,b\n1,2\n");
    await expect(readCsvTable([noLabel], { label: "label", onBadCell: "fail" })).rejects.toThrow(
      `${noLabel} line 1: no column "label"; the header has a, b`,
    );
    const empty = dir.write("e.csv", "");
    await expect(readCsvTable([empty], { label: "label", onBadCell: "fail" })).rejects.toThrow(
      "is empty: no header row",
    );
    const headerOnly = dir.write("h.csv", "a,label\n");
    await expect(readCsvTable([headerOnly], { label: "label", onBadCell: "fail" })).rejects.toThrow(
      "has a header but no rows",
    );
  });
});
