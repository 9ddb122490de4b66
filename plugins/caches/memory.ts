import { LRUCache } from "lru-cache";
import type {
  CacheHooks,
  Clock,
  OptionsOf,
  PluginContext,
  PluginLibraries,
  PluginModule,
} from "../../runtime/plugin-api.ts";
import { Probation, SLOT_BYTES } from "./probation.ts";

const options = ({ v }: PluginLibraries) =>
  v.strictObject({
    max_entries: v.optional(
      v.pipe(
        v.number(),
        v.integer(),
        v.minValue(1),
        v.description(
          "Entries kept, each counted once per 512 bytes of its JSON (a batch's answer as several); " +
            "least recently used go first.",
        ),
      ),
      10_000,
    ),
  });

/** 8 MB of slots at most: a very large `max_entries` must not reserve memory for one-offs in proportion. */
const MAX_PROBATION_SLOTS = 16_384;

export interface MemoryEntry {
  readonly value: unknown;
  expiresAt: number;
  /** Times the entry was stored or asked for: the tiered cache writes it to disk at `disk_after`. */
  asks: number;
}

/**
 * An entry of the LRU, kept as its JSON text and parsed at each read. Kept as objects, the answers that
 * outlive the load (a batch is a few objects per row) stay scattered among the collector's blocks, and the
 * non-moving heap keeps every block that holds one: the daemon's memory did not come back after a burst.
 */
class StoredEntry implements MemoryEntry {
  constructor(
    private readonly json: string,
    public expiresAt: number,
    public asks: number,
  ) {}

  get value(): unknown {
    return JSON.parse(this.json);
  }
}

/**
 * A bounded least-recently-used map (lru-cache) of entries that expire, behind a probation (as many slots
 * as `max_entries`, up to 16,384) where entries stored once wait as bytes until they are asked for.
 * The LRU weighs each entry in probation slots of its JSON: counted one each, answers of a thousand rows
 * would hold a thousand times the memory of single rows in the same `max_entries`.
 * Expiry is checked against the context's clock, not lru-cache's own timer, so tests can move time.
 * Everything a cache keeps per entry lives in the one entry object: each structure beside it, written on
 * every uncached predict, measurably added to the collector's work on the serving thread.
 */
export class MemoryEntries {
  private readonly entries: LRUCache<string, StoredEntry>;
  private readonly probation: Probation;

  constructor(
    maxEntries: number,
    private readonly clock: Clock,
  ) {
    // An entry weighing more than the whole cache is not kept (lru-cache's maxEntrySize defaults to maxSize).
    this.entries = new LRUCache({ maxSize: maxEntries });
    this.probation = new Probation(Math.min(maxEntries, MAX_PROBATION_SLOTS));
  }

  /** The entry if it has not expired; an expired one is dropped. Asked for again, a probation entry joins the LRU. */
  get(key: string): MemoryEntry | undefined {
    let entry = this.entries.get(key);
    if (!entry) {
      const waiting = this.probation.take(key);
      if (waiting) {
        entry = new StoredEntry(waiting.json, waiting.expiresAt, 1);
        this.entries.set(key, entry, { size: slotsOf(waiting.bytes) });
      }
    }
    if (entry && entry.expiresAt <= this.clock.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /**
   * Stored once, an entry waits in probation; one promoted from elsewhere (`asks` > 1), or already in the LRU, goes to
   * the LRU.
   */
  set(key: string, value: unknown, ttlMs: number, asks = 1): MemoryEntry {
    const expiresAt = this.clock.now() + ttlMs;
    const json = JSON.stringify(value) ?? "null";
    if (asks === 1 && !this.entries.has(key) && this.probation.put(key, json, expiresAt)) {
      return { value, expiresAt, asks };
    }
    this.probation.delete(key);
    const entry = new StoredEntry(json, expiresAt, asks);
    this.entries.set(key, entry, { size: slotsOf(key.length + json.length) });
    return entry;
  }

  delete(key: string): void {
    this.entries.delete(key);
    this.probation.delete(key);
  }

  /** All entries, or those of one model (keys are `model/version/hash`). */
  clear(model?: string): void {
    this.probation.clear(model === undefined ? "" : `${model}/`);
    if (model === undefined) this.entries.clear();
    else for (const key of [...this.entries.keys()]) if (key.startsWith(`${model}/`)) this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size + this.probation.size;
  }
}

function slotsOf(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / SLOT_BYTES));
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
