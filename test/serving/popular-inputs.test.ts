import { expect, test } from "bun:test";
import { PopularInputs } from "../../runtime/serving/popular-inputs.ts";

test("inputs asked again are counted and survive a flood of one-off inputs, which leave nothing behind", () => {
  const popular = new PopularInputs(100);
  const row = (n: number) => [[n]];
  const ask = (hash: string, times: number, inputs: number[][]) => {
    for (let i = 0; i < times; i++) popular.note(hash, i > 0, () => inputs);
  };
  ask("hot", 5, row(-1));
  ask("warm", 3, row(-2));
  for (let n = 0; n < 10_000; n++) ask(`once-${n}`, 1, row(n));
  expect(popular.top(4)).toEqual([row(-1), row(-2)]);

  let asked = 0;
  popular.note("hot", true, () => (asked++, row(-1)));
  expect(asked).toBe(0);
  // Twice full of inputs asked twice: pruned to the most asked.
  for (let n = 0; n < 500; n++) ask(`pair-${n}`, 2, row(n));
  expect(popular.top(2)).toEqual([row(-1), row(-2)]);
  expect(popular.top(1000).length).toBeLessThanOrEqual(200);
});
