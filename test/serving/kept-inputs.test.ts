import { heapStats } from "bun:jsc";
import { expect, test } from "bun:test";
import { KeptInputs } from "../../runtime/serving/kept-inputs.ts";
import { PopularInputs } from "../../runtime/serving/popular-inputs.ts";

/** `rows` rows of `width` values, each value naming its input, row and column. */
const input = (id: number, rows: number, width: number) =>
  Float32Array.from({ length: rows * width }, (_, i) => id * 1000 + Math.floor(i / width) * 10 + (i % width));
const asRows = (x: Float32Array, rows: number) => {
  const width = x.length / rows;
  return Array.from({ length: rows }, (_, row) => Array.from(x.subarray(row * width, (row + 1) * width)));
};

test("inputs of every size replace each other and come back with their own rows", () => {
  const kept = new KeptInputs(8);
  const expected: Array<{ x: Float32Array; rows: number }> = [];
  let seed = 3;
  const random = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) % n;
  for (let id = 0; id < 8; id++) {
    const rows = 1 + random(4);
    const x = input(id, rows, 3);
    expect(kept.add(id, 0, id + 2, x, rows)).toBe(true);
    expected.push({ x: x.slice(), rows });
  }
  expect(kept.add(99, 0, 2, input(99, 1, 3), 1)).toBe(false);
  // Larger and smaller inputs in turn, so that the arena grows and is packed again.
  for (let id = 8; id < 400; id++) {
    const index = random(8);
    const rows = 1 + random(40);
    const x = input(id, rows, 3);
    kept.replace(index, id, 7, 100 + id, x, rows);
    x.fill(-1);
    expected[index] = { x: input(id, rows, 3), rows };
  }
  for (let index = 0; index < 8; index++) {
    expect(kept.rowsOf(index)).toEqual(asRows(expected[index]!.x, expected[index]!.rows));
    expect(kept.lows[index]).toBe(7);
    expect(kept.counts[index]).toBe(100 + kept.highs[index]!);
  }
  expect(kept.counts[kept.least()]).toBe(Math.min(...kept.counts));
});

test("the most asked inputs keep their rows without an object each", () => {
  const popular = new PopularInputs(1000, 500);
  const x = input(1, 2, 16);
  const hashes = Array.from({ length: 500 }, (_, n) => Bun.SHA1.hash(`input-${n}`, "hex"));
  popular.note(Bun.SHA1.hash("warm-up", "hex"), true, x, 2);
  Bun.gc(true);
  const before = heapStats().objectCount;
  for (const hash of hashes) popular.note(hash, true, x, 2);
  Bun.gc(true);
  // Kept as an object and a Float32Array each, the 500 would add 1,000; the arena adds one.
  expect(heapStats().objectCount - before).toBeLessThan(100);
  expect(popular.top(500).length).toBe(500);
});
