import { heapStats } from "bun:jsc";
import { expect, test } from "bun:test";
import { SLOT_BYTES } from "../../plugins/caches/probation.ts";
import { SlotLru } from "../../plugins/caches/slot-lru.ts";

/** The same LRU written the plain way: a Map in least-recently-used order, weighed in slots. */
class ReferenceLru {
  readonly entries = new Map<string, { json: string; asks: number; slots: number }>();
  used = 0;

  constructor(private readonly slots: number) {}

  ask(key: string) {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    entry.asks++;
    return { json: entry.json, asks: entry.asks };
  }

  set(key: string, json: string, asks: number): boolean {
    this.delete(key);
    const slots = Math.max(1, Math.ceil((Buffer.byteLength(key) + Buffer.byteLength(json)) / SLOT_BYTES));
    if (slots > this.slots) return false;
    for (const oldest of this.entries.keys()) {
      if (this.slots - this.used >= slots) break;
      this.delete(oldest);
    }
    this.entries.set(key, { json, asks, slots });
    this.used += slots;
    return true;
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.used -= entry.slots;
    this.entries.delete(key);
  }
}

/** A small deterministic generator, so that a failure can be replayed. */
function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

test("the slot LRU keeps, orders, evicts and counts exactly as a plain LRU weighed in slots", () => {
  for (const seed of [1, 2, 3]) {
    const next = random(seed);
    const slots = 40;
    const lru = new SlotLru(slots);
    const reference = new ReferenceLru(slots);
    // Few keys, so that entries are replaced, collide in the table and wrap around it.
    const keyOf = () => `model-${Math.floor(next() * 3)}/1/${Math.floor(next() * 120).toString(16)}`;
    // Answers of 1 to 5 slots, some with multi-byte characters, now and then one larger than the whole cache.
    const jsonOf = () =>
      JSON.stringify({ label: next() < 0.1 ? "naïve" : "run", pad: "x".repeat(Math.floor(next() ** 3 * 2_400)) });
    for (let step = 0; step < 20_000; step++) {
      const roll = next();
      const key = keyOf();
      if (roll < 0.45) {
        const json = next() < 0.002 ? "y".repeat(slots * SLOT_BYTES) : jsonOf();
        const asks = 1 + Math.floor(next() * 3);
        expect(lru.set(key, json, step, asks)).toBe(reference.set(key, json, asks));
      } else if (roll < 0.9) {
        const got = lru.ask(key);
        const expected = reference.ask(key);
        expect(got && { json: got.json, asks: got.asks }).toEqual(expected);
      } else if (roll < 0.98) {
        lru.delete(key);
        reference.delete(key);
      } else {
        const model = `model-${Math.floor(next() * 3)}/`;
        lru.clear(model);
        for (const known of [...reference.entries.keys()]) if (known.startsWith(model)) reference.delete(known);
      }
      expect(lru.size).toBe(reference.entries.size);
    }
    for (const known of reference.entries.keys()) expect(lru.has(known)).toBe(true);
  }
});

test("a key longer than the longest kept is not kept, and an entry's expiry comes back as stored", () => {
  const lru = new SlotLru(4);
  expect(lru.set(`m/1/${"a".repeat(SLOT_BYTES)}`, "1", 0, 1)).toBe(false);
  expect(lru.size).toBe(0);
  expect(lru.set("m/1/ab", '{"y":1}', 12_345.5, 1)).toBe(true);
  expect(lru.ask("m/1/ab")).toEqual({ json: '{"y":1}', expiresAt: 12_345.5, asks: 2 });
  lru.clear();
  expect(lru.ask("m/1/ab")).toBeUndefined();
  expect(lru.set("m/1/cd", "x".repeat(4 * SLOT_BYTES - 6), 0, 1)).toBe(true);
  expect(lru.size).toBe(1);

  // An answer of about 90 slots, past the kept scratch buffer, goes in and comes out whole, multi-byte
  // characters across the edges of its slots.
  const large = new SlotLru(400);
  const json = JSON.stringify({ rows: Array.from({ length: 4_000 }, (_, n) => `ü${n}€`) });
  expect(large.set("m/1/ef", json, 0, 1)).toBe(true);
  expect(large.ask("m/1/ef")?.json).toBe(json);
  expect(large.set("m/1/ab", '{"y":1}', 0, 1)).toBe(true);
  expect(large.ask("m/1/ab")?.json).toBe('{"y":1}');
});

test("ten thousand answers kept add no objects to the collector's heap", () => {
  const lru = new SlotLru(10_000);
  const objects = () => (Bun.gc(true), heapStats().objectCount);
  const before = objects();
  for (let n = 0; n < 10_000; n++) {
    const json = JSON.stringify({
      outputs: [{ label: "sprint", probabilities: { jog: n / 1e4, sprint: 1 - n / 1e4 } }],
    });
    lru.set(`activity-player_${n % 30}/3/${n.toString(16).padStart(40, "0")}`, json, 0, 1);
  }
  expect(lru.size).toBe(10_000);
  // Kept as strings, each answer and key were objects of their own: 20,000 more.
  expect(objects() - before).toBeLessThan(100);
});
