import { describe, expect, test } from "bun:test";
import { MicroBatcher } from "../../runtime/inference/micro-batch.ts";

/**
 * A runner that answers each row with its first feature, fails on any row whose first feature is negative, and records
 * its calls.
 */
function recordingRunner(width: number) {
  const calls: number[][] = [];
  const run = async (x: Float32Array, rows: number) => {
    const firsts = Array.from({ length: rows }, (_, i) => x[i * width]!);
    calls.push(firsts);
    if (firsts.some((value) => value < 0))
      throw new Error(`row ${firsts.find((value) => value < 0)} cannot be predicted`);
    return firsts;
  };
  return { calls, run };
}

const rowsOf = (...firsts: number[]) => Float32Array.from(firsts.flatMap((first) => [first, 0.5]));

describe("micro-batching", () => {
  test("requests of one turn run as one call, split back in order; the next turn starts a new batch", async () => {
    const runner = recordingRunner(2);
    const batcher = new MicroBatcher(2, 64, runner.run);
    const first = await Promise.all([
      batcher.run(rowsOf(1), 1),
      batcher.run(rowsOf(2, 3), 2),
      batcher.run(rowsOf(4), 1),
    ]);
    expect(first).toEqual([[1], [2, 3], [4]]);
    expect(await batcher.run(rowsOf(5), 1)).toEqual([5]);
    expect(runner.calls).toEqual([[1, 2, 3, 4], [5]]);
  });

  test("a batch closes at max rows and a request that large runs alone", async () => {
    const runner = recordingRunner(2);
    const batcher = new MicroBatcher(2, 3, runner.run);
    const answers = await Promise.all([
      batcher.run(rowsOf(1, 2), 2),
      batcher.run(rowsOf(3, 4), 2),
      batcher.run(rowsOf(5, 6, 7), 3),
      batcher.run(rowsOf(8), 1),
    ]);
    expect(answers).toEqual([[1, 2], [3, 4], [5, 6, 7], [8]]);
    // The 3-row request ran at once; the 2-row ones could not share a batch of at most 3 rows.
    expect(runner.calls).toEqual([
      [5, 6, 7],
      [1, 2],
      [3, 4, 8],
    ]);
  });

  test("a failing batch runs each request alone: only the bad one fails", async () => {
    const runner = recordingRunner(2);
    const batcher = new MicroBatcher(2, 64, runner.run);
    const settled = await Promise.allSettled([
      batcher.run(rowsOf(1), 1),
      batcher.run(rowsOf(-2), 1),
      batcher.run(rowsOf(3), 1),
    ]);
    expect(
      settled.map((result) => (result.status === "fulfilled" ? result.value : (result.reason as Error).message)),
    ).toEqual([[1], "row -2 cannot be predicted", [3]]);
    expect(runner.calls).toEqual([[1, -2, 3], [1], [-2], [3]]);
  });
});
