import { heapStats } from "bun:jsc";
import { expect, test } from "bun:test";
import { PopularInputs, PopularInputsByModel } from "../../runtime/serving/popular-inputs.ts";

const hashOf = (name: string) => Bun.SHA1.hash(name, "hex");
/** One row of one feature, `n`. */
const row = (n: number) => Float32Array.of(n);

function asker(popular: PopularInputs) {
  return (name: string, times: number, x: Float32Array, rows = 1) => {
    for (let i = 0; i < times; i++) popular.note(hashOf(name), i > 0, x, rows);
  };
}

test("inputs asked again are counted and survive a flood of one-off inputs, which leave nothing behind", () => {
  const popular = new PopularInputs(100, 20);
  const ask = asker(popular);
  ask("hot", 5, row(-1));
  ask("warm", 3, row(-2));
  for (let n = 0; n < 10_000; n++) ask(`once-${n}`, 1, row(n));
  expect(popular.top(4)).toEqual([[[-1]], [[-2]]]);

  // Twice full of inputs asked twice: pruned to the most asked, which keep their rows.
  for (let n = 0; n < 500; n++) ask(`pair-${n}`, 2, row(n));
  expect(popular.top(2)).toEqual([[[-1]], [[-2]]]);
  expect(popular.top(1000).length).toBe(20);
});

test("an input asked more than the kept ones takes the place of the least asked, with the rows of that ask", () => {
  const popular = new PopularInputs(100, 2);
  const ask = asker(popular);
  ask("a", 4, row(1));
  ask("b", 3, row(2));
  ask("c", 3, row(3));
  expect(popular.top(5)).toEqual([[[1]], [[2]]]);
  // Its fourth ask puts c above b; its rows are copied then, so a later change to the caller's array is not seen.
  const x = Float32Array.of(30, 31, 32, 33);
  popular.note(hashOf("c"), true, x, 2);
  x.fill(0);
  expect(popular.top(5)).toEqual([
    [[1]],
    [
      [30, 31],
      [32, 33],
    ],
  ]);
});

test("without pruning, the kept inputs are the most asked, as counted by a plain map", () => {
  let seed = 7;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const popular = new PopularInputs(5000, 10);
  const counts = new Map<number, number>();
  for (let i = 0; i < 40_000; i++) {
    // Skewed: low numbers are asked far more often.
    const n = Math.floor(random() ** 3 * 2000);
    const before = counts.get(n);
    popular.note(hashOf(`input-${n}`), before !== undefined, row(n), 1);
    // As in the service: an input is counted from its second ask, as 2.
    counts.set(n, before === undefined ? 0 : before === 0 ? 2 : before + 1);
  }
  const expected = [...counts.values()].sort((a, b) => b - a).slice(0, 10);
  const kept = popular.top(10).map((rows) => counts.get(rows[0]![0]!)!);
  expect(kept).toEqual(expected);
});

test("counting inputs asked again makes no object per input", () => {
  const popular = new PopularInputs(20_000, 20);
  const hashes = Array.from({ length: 10_000 }, (_, n) => hashOf(`input-${n}`));
  const x = row(1);
  popular.note(hashes[0]!, true, x, 1);
  Bun.gc(true);
  const before = heapStats().objectCount;
  for (const hash of hashes) popular.note(hash, true, x, 1);
  for (const hash of hashes) popular.note(hash, true, x, 1);
  Bun.gc(true);
  // The 20 kept inputs' copies, and a margin for the runtime's own; 10,000 counted objects would show.
  expect(heapStats().objectCount - before).toBeLessThan(500);
  expect(popular.top(1).length).toBe(1);
});

test("a model's counts take memory only once one of its inputs is asked again", () => {
  const byModel = new PopularInputsByModel(500, 20);
  const tables = () => (byModel as unknown as { models: Map<string, unknown> }).models.size;
  for (let n = 0; n < 100; n++) byModel.note("once", hashOf(`${n}`), false, row(n), 1);
  expect(tables()).toBe(0);
  expect(byModel.top("once", 5)).toEqual([]);
  byModel.note("again", hashOf("7"), true, row(7), 1);
  expect(tables()).toBe(1);
  expect(byModel.top("again", 5)).toEqual([[[7]]]);
});
