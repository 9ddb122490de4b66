import { LRUCache } from "lru-cache";
import type { CacheHooks, OptionsOf, PluginContext, PluginLibraries, PluginModule } from "../../runtime/plugin-api.ts";

const options = ({ v }: PluginLibraries) =>
  v.strictObject({
    max_entries: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.description("Entries kept; least recently used go first.")), 10_000),
  });

interface Entry {
  value: unknown;
  expiresAt: number;
}

/**
 * A bounded least-recently-used map (lru-cache). Expiry is checked against the context's clock, not
 * lru-cache's own timer, so tests can move time.
 */
export function memoryCache(context: PluginContext<OptionsOf<typeof options>>): CacheHooks {
  const entries = new LRUCache<string, Entry>({ max: context.options.max_entries });
  let hits = 0;
  let misses = 0;
  return {
    get(key) {
      const entry = entries.get(key);
      if (!entry || entry.expiresAt <= context.clock.now()) {
        if (entry) entries.delete(key);
        misses++;
        return undefined;
      }
      hits++;
      return entry.value;
    },
    set(key, value, ttlMs) {
      entries.set(key, { value, expiresAt: context.clock.now() + ttlMs });
    },
    delete(key) {
      entries.delete(key);
    },
    clear(model) {
      if (model === undefined) return entries.clear();
      for (const key of [...entries.keys()]) if (key.startsWith(`${model}/`)) entries.delete(key);
    },
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
