import type {
  CacheHooks,
  Clock,
  OptionsOf,
  PluginContext,
  PluginLibraries,
  PluginModule,
} from "../../runtime/plugin-api.ts";
import { Probation } from "./probation.ts";
import { SlotLru } from "./slot-lru.ts";

const options = ({ v }: PluginLibraries) =>
  v.strictObject({
    max_entries: v.optional(
      v.pipe(
        v.number(),
        v.integer(),
        v.minValue(1),
        v.description(
          "Entries kept, each counted once per 256 bytes of its key and JSON (a batch's answer as several); " +
            "least recently used go first.",
        ),
      ),
      10_000,
    ),
  });

/** 4 MB of slots at most: a very large `max_entries` must not reserve memory for one-offs in proportion. */
const MAX_PROBATION_SLOTS = 16_384;

export interface MemoryEntry {
  readonly value: unknown;
  readonly expiresAt: number;
  /** Times the entry was stored or asked for, this ask included: the tiered cache writes it to disk at `disk_after`. */
  readonly asks: number;
}

/** An entry read from the cache, parsed only when its value is asked for. */
class ReadEntry implements MemoryEntry {
  constructor(
    private readonly json: string,
    readonly expiresAt: number,
    readonly asks: number,
  ) {}

  get value(): unknown {
    return JSON.parse(this.json);
  }
}

/**
 * A bounded least-recently-used map of entries that expire, behind a probation (as many slots as
 * `max_entries`, up to 16,384) where entries stored once wait until they are asked for. Both keep the
 * answers' JSON in fixed buffers of 256-byte slots, so the cache's memory is the same after a load as
 * during it; an entry takes as many slots as its JSON, so that answers of a thousand rows do not hold a
 * thousand times the memory of single rows in the same `max_entries`.
 * Expiry is checked against the context's clock, so tests can move time.
 */
export class MemoryEntries {
  private readonly entries: SlotLru;
  private readonly probation: Probation;

  constructor(
    maxEntries: number,
    private readonly clock: Clock,
  ) {
    this.entries = new SlotLru(maxEntries);
    this.probation = new Probation(Math.min(maxEntries, MAX_PROBATION_SLOTS));
  }

  /**
   * The entry if it has not expired, its asks counted; an expired one is dropped. Asked for again, a probation
   * entry joins the LRU.
   */
  get(key: string): MemoryEntry | undefined {
    let entry = this.entries.ask(key);
    if (!entry) {
      const waiting = this.probation.take(key);
      if (!waiting) return undefined;
      entry = { json: waiting.json, expiresAt: waiting.expiresAt, asks: 2 };
      this.entries.set(key, entry.json, entry.expiresAt, entry.asks);
    }
    if (entry.expiresAt <= this.clock.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return new ReadEntry(entry.json, entry.expiresAt, entry.asks);
  }

  /**
   * Stored once, an entry waits in probation; one promoted from elsewhere (`asks` > 1), or already in the LRU, goes to
   * the LRU. One larger than the whole cache is not kept.
   */
  set(key: string, value: unknown, ttlMs: number, asks = 1): MemoryEntry {
    const expiresAt = this.clock.now() + ttlMs;
    const json = JSON.stringify(value) ?? "null";
    if (asks === 1 && !this.entries.has(key) && this.probation.put(key, json, expiresAt)) {
      return { value, expiresAt, asks };
    }
    this.probation.delete(key);
    this.entries.set(key, json, expiresAt, asks);
    return { value, expiresAt, asks };
  }

  delete(key: string): void {
    this.entries.delete(key);
    this.probation.delete(key);
  }

  /** All entries, or those of one model (keys are `model/version/hash`). */
  clear(model?: string): void {
    const prefix = model === undefined ? "" : `${model}/`;
    this.probation.clear(prefix);
    this.entries.clear(prefix);
  }

  get size(): number {
    return this.entries.size + this.probation.size;
  }
}

export function memoryCache(context: PluginContext<OptionsOf<typeof options>>): CacheHooks {
  const entries = new MemoryEntries(context.options.max_entries, context.clock);
  let hits = 0;
  let misses = 0;
  return {
    get(key) {
      const entry = entries.get(key);
      if (!entry) {
        misses++;
        return undefined;
      }
      hits++;
      return entry.value;
    },
    set: (key, value, ttlMs) => void entries.set(key, value, ttlMs),
    delete: (key) => entries.delete(key),
    clear: (model) => entries.clear(model),
    stats: () => ({ entries: entries.size, hits, misses }),
  };
}

export default {
  kind: "cache",
  name: "memory",
  version: "1.0.0",
  description: "Bounded in-memory LRU of predictions.",
  options,
  setup: memoryCache,
} satisfies PluginModule<"cache", ReturnType<typeof options>>;
