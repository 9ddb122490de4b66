import { expect, test } from "bun:test";
import { MemoryEntries } from "../../plugins/caches/memory.ts";
import { Probation } from "../../plugins/caches/probation.ts";
import { FakeClock } from "../fake-clock.ts";

const key = (model: string, n: number) => `${model}/1/${n.toString(16).padStart(40, "0")}`;
const answer = (n: number) => ({ outputs: [{ label: "sprint", probabilities: { jog: n / 1000, sprint: 1 - n / 1000 } }], at: n });

test("an entry stored once waits in probation as bytes, comes back equal, and joins the LRU when asked for", () => {
  const clock = new FakeClock(1_000);
  const entries = new MemoryEntries(100, clock);
  entries.set(key("walk", 1), answer(1), 60_000);
  expect(entries.size).toBe(1);
  const asked = entries.get(key("walk", 1));
  expect(asked).toEqual({ value: answer(1), expiresAt: 61_000, asks: 1 });
  // Now in the LRU: the same object each time, counted once.
  expect(entries.get(key("walk", 1))).toBe(asked!);
  expect(entries.size).toBe(1);

  entries.set(key("walk", 2), answer(2), 60_000);
  clock.advance(60_000);
  expect(entries.get(key("walk", 2))).toBeUndefined();
  expect(entries.get(key("walk", 1))).toBeUndefined();
  expect(entries.size).toBe(0);
});

test("clearing a model, deleting a key, and answers too large for a slot", () => {
  const clock = new FakeClock(0);
  const entries = new MemoryEntries(1_000, clock);
  for (let n = 0; n < 50; n++) {
    entries.set(key("walk", n), answer(n), 60_000);
    entries.set(key("run", n), answer(n), 60_000);
  }
  const large = { outputs: Array.from({ length: 64 }, (_, n) => answer(n).outputs[0]), at: 0 };
  entries.set(key("run", 999), large, 60_000);
  expect(entries.get(key("run", 999))?.value).toEqual(large);

  entries.clear("walk");
  expect(entries.get(key("walk", 3))).toBeUndefined();
  entries.delete(key("run", 4));
  expect(entries.get(key("run", 4))).toBeUndefined();
  // Slots of one-offs collide now and then (one replaces the other): most of 49 are still there.
  const kept = Array.from({ length: 49 }, (_, n) => entries.get(key("run", n === 4 ? 49 : n))).filter(Boolean);
  expect(kept.length).toBeGreaterThan(40);
  entries.clear();
  expect(entries.size).toBe(0);
});

test("probation: a newer key of the same slot replaces the older; a failed write leaves no damaged entry", () => {
  const probation = new Probation(1);
  expect(probation.put("a/1/00", { n: 1 }, 10)).toBe(true);
  expect(probation.put("b/1/00", { n: 2 }, 20)).toBe(true);
  expect(probation.take("a/1/00")).toBeUndefined();
  expect(probation.take("b/1/00")).toEqual({ value: { n: 2 }, expiresAt: 20 });
  expect(probation.size).toBe(0);

  expect(probation.put("a/1/00", { n: 1 }, 10)).toBe(true);
  expect(probation.put("b/1/00", { text: "x".repeat(2_000) }, 20)).toBe(false);
  expect(probation.take("a/1/00")).toBeUndefined();
  expect(probation.size).toBe(0);
  expect(probation.put("é/1/00", 1, 10)).toBe(false);
});
