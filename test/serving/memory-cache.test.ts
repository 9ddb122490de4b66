import { heapStats } from "bun:jsc";
import { expect, test } from "bun:test";
import { MemoryEntries } from "../../plugins/caches/memory.ts";
import { Probation, SLOT_BYTES } from "../../plugins/caches/probation.ts";
import { FakeClock } from "../fake-clock.ts";

const key = (model: string, n: number) => `${model}/1/${n.toString(16).padStart(40, "0")}`;
const answer = (n: number) => ({
  outputs: [{ label: "sprint", probabilities: { jog: n / 1000, sprint: 1 - n / 1000 } }],
  at: n,
});

test("an entry stored once waits in probation as bytes, comes back equal, and joins the LRU when asked for", () => {
  const clock = new FakeClock(1_000);
  const entries = new MemoryEntries(100, clock);
  entries.set(key("walk", 1), answer(1), 60_000);
  expect(entries.size).toBe(1);
  const asked = entries.get(key("walk", 1))!;
  // Stored once, asked once: the tiered cache writes it to disk at its second ask.
  expect([asked.value, asked.expiresAt, asked.asks]).toEqual([answer(1), 61_000, 2]);
  // Now in the LRU: counted once, each ask counted.
  expect(entries.get(key("walk", 1))?.asks).toBe(3);
  expect(entries.get(key("walk", 1))?.value).toEqual(answer(1));
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
  expect(probation.put("a/1/00", JSON.stringify({ n: 1 }), 10)).toBe(true);
  expect(probation.put("b/1/00", JSON.stringify({ n: 2 }), 20)).toBe(true);
  expect(probation.take("a/1/00")).toBeUndefined();
  const bytes = "b/1/00".length + JSON.stringify({ n: 2 }).length;
  expect(probation.take("b/1/00")).toEqual({ json: JSON.stringify({ n: 2 }), expiresAt: 20, bytes });
  expect(probation.size).toBe(0);

  expect(probation.put("a/1/00", JSON.stringify({ n: 1 }), 10)).toBe(true);
  expect(probation.put("b/1/00", JSON.stringify({ text: "x".repeat(2_000) }), 20)).toBe(false);
  expect(probation.take("a/1/00")).toBeUndefined();
  expect(probation.size).toBe(0);
  expect(probation.put("é/1/00", "1", 10)).toBe(false);
});

test("answers count by their size: batches fill the cache in proportion, so its memory stays bounded", () => {
  const clock = new FakeClock(0);
  const entries = new MemoryEntries(100, clock);
  const rows = (count: number, first = 0) => Array.from({ length: count }, (_, row) => answer(first + row).outputs[0]);
  const batch = (n: number) => ({ outputs: rows(32, n * 100), at: n });
  // Each batch's JSON fills several slots, too many for probation: it goes to the LRU at once.
  const slots = Math.ceil((key("run", 0).length + JSON.stringify(batch(0)).length) / SLOT_BYTES);
  expect(slots).toBeGreaterThan(3);
  for (let n = 0; n < 100; n++) entries.set(key("run", n), batch(n), 60_000);
  const held = Array.from({ length: 100 }, (_, n) => entries.get(key("run", n))).filter(Boolean);
  expect(held.length).toBeLessThanOrEqual(Math.floor(100 / slots));
  expect(held.length).toBeGreaterThan(0);
  // The newest are those kept, each as it was stored.
  expect(entries.get(key("run", 99))?.value).toEqual(batch(99));

  // Single rows, asked for twice, take a slot each: 100 of them fill the cache, and push out the batches.
  for (let n = 0; n < 100; n++) {
    entries.set(key("walk", n), answer(n), 60_000);
    entries.get(key("walk", n));
  }
  expect(Array.from({ length: 100 }, (_, n) => entries.get(key("walk", n))).filter(Boolean).length).toBe(100);
  expect(entries.get(key("run", 99))).toBeUndefined();

  // An answer larger than the whole cache is not kept, and pushes nothing out.
  const huge = { outputs: rows(2_000), at: 0 };
  entries.set(key("run", 1_000), huge, 60_000);
  expect(entries.get(key("run", 1_000))).toBeUndefined();
  expect(entries.get(key("walk", 0))).toBeDefined();
});

test("an answer kept in the LRU is a few objects whatever its rows, and reads back equal each time", () => {
  const entries = new MemoryEntries(100_000, new FakeClock(0));
  const rows = (n: number) => Array.from({ length: 32 }, (_, row) => answer(n * 100 + row).outputs[0]);
  const batch = (n: number) => ({ outputs: rows(n), at: n });
  const objects = () => (Bun.gc(true), heapStats().objectCount);
  const before = objects();
  // Too large for a probation slot: straight into the LRU. As objects, each held more than a hundred.
  for (let n = 0; n < 500; n++) entries.set(key("run", n), batch(n), 60_000);
  expect(objects() - before).toBeLessThan(500 * 10);

  const first = entries.get(key("run", 7))!.value;
  expect(first).toEqual(batch(7));
  expect(entries.get(key("run", 7))!.value).toEqual(first);
  // Each read is its own copy: a caller that changes it changes nothing kept.
  expect(entries.get(key("run", 7))!.value).not.toBe(first);
});
