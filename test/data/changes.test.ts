import { expect, test } from "bun:test";
import { join } from "node:path";
import { dataFiles, Settling } from "../../runtime/data/changes.ts";
import { tempDir } from "../helpers.ts";

test("a job's files are keyed as its data source keys them, and fingerprinted by size and mtime", async () => {
  await using dir = tempDir();
  dir.write("athletes/player_1/TR1_a.csv", "hr,label\n1,a\n");
  dir.write("athletes/player_2/TR1_a.csv", "hr,label\n1,a\n");
  dir.write("prices/AAPL.csv", "p,label\n1,2\n");
  dir.write("prices/MSFT.csv", "p,label\n1,2\n");
  const sessions = dataFiles(dir.path, { source: "sessions", path: "athletes", debounce: "2s" });
  expect(sessions.filesByKey()).toEqual({
    player_1: [join(dir.path, "athletes/player_1/TR1_a.csv")],
    player_2: [join(dir.path, "athletes/player_2/TR1_a.csv")],
  });
  expect(sessions.debounceMs).toBe(2000);
  const perFile = dataFiles(dir.path, { source: "rows", path: "prices", key_from: "file" });
  expect(Object.keys(perFile.fingerprints())).toEqual(["AAPL", "MSFT"]);
  expect(Object.keys(dataFiles(dir.path, { source: "rows", path: "prices" }).fingerprints())).toEqual([""]);
  const oneFile = dataFiles(dir.path, { source: "rows", path: "prices/AAPL.csv" });
  expect(oneFile.filesByKey()).toEqual({ "": [join(dir.path, "prices/AAPL.csv")] });
  expect(dataFiles(dir.path, { source: "sessions", path: "missing" }).fingerprints()).toEqual({});
  expect(dataFiles(dir.path, undefined).filesByKey()).toEqual({});
  // Left out, debounce is the data source's default.
  expect(dataFiles(dir.path, { source: "sessions", path: "athletes" }).debounceMs).toBe(3000);

  const before = sessions.fingerprints();
  dir.write("athletes/player_2/TR1_a.csv", "hr,label\n1,a\n2,b\n");
  const after = sessions.fingerprints();
  expect(after.player_1).toBe(before.player_1!);
  expect(after.player_2).not.toBe(before.player_2!);
  expect(sessions.fingerprint(join(dir.path, "athletes/player_3/none.csv"))).toBe("gone");
});

test("a change settles only once the key's files kept still for the debounce", () => {
  const changes = new Settling({ p1: "a", p2: "x" }, 1000);
  expect(changes.look({ p1: "a", p2: "x" }, 0)).toEqual({ settled: [], wakeAt: undefined });
  // p1 is being copied in: it grows at 100 and again at 600.
  expect(changes.look({ p1: "ab", p2: "x" }, 100)).toEqual({ settled: [], wakeAt: 1100 });
  expect(changes.look({ p1: "abc", p2: "x" }, 600)).toEqual({ settled: [], wakeAt: 1600 });
  expect(changes.look({ p1: "abc", p2: "x" }, 1200)).toEqual({ settled: [], wakeAt: 1600 });
  expect(changes.look({ p1: "abc", p2: "x" }, 1600)).toEqual({ settled: ["p1"], wakeAt: undefined });
  // A key whose files are gone settles too.
  expect(changes.look({ p1: "abc" }, 1700)).toEqual({ settled: [], wakeAt: 2700 });
  expect(changes.look({ p1: "abc" }, 2700)).toEqual({ settled: ["p2"], wakeAt: undefined });
});
