import { expect, test } from "bun:test";
import { PopularInputs } from "../../runtime/serving/popular-inputs.ts";

test("the most asked inputs survive a flood of one-off inputs; the rest of the top are the most recent", () => {
  const popular = new PopularInputs(100);
  const row = (n: number) => [[n]];
  for (let i = 0; i < 5; i++) popular.note("hot", () => row(-1));
  for (let i = 0; i < 3; i++) popular.note("warm", () => row(-2));
  for (let n = 0; n < 10_000; n++) popular.note(`once-${n}`, () => row(n));
  expect(popular.top(4)).toEqual([row(-1), row(-2), row(9999), row(9998)]);

  let asked = 0;
  popular.note("hot", () => (asked++, row(-1)));
  expect(asked).toBe(0);
  for (let n = 0; n < 500; n++) for (let i = 0; i < 2; i++) popular.note(`pair-${n}`, () => row(n));
  expect(popular.top(2)).toEqual([row(-1), row(-2)]);
});
