import type { CacheHooks, OptionsOf, PluginContext, PluginLibraries, PluginModule } from "../../runtime/plugin-api.ts";
import { diskCache } from "./disk.ts";
import { MemoryEntries, type MemoryEntry } from "./memory.ts";

const options = ({ v }: PluginLibraries) =>
  v.strictObject({
    max_entries: v.optional(
      v.pipe(v.number(), v.integer(), v.minValue(1), v.description("Entries kept in memory.")),
      10_000,
    ),
    disk_max_entries: v.optional(
      v.pipe(v.number(), v.integer(), v.minValue(1), v.description("Files kept on disk.")),
      100_000,
    ),
    dir: v.optional(v.pipe(v.string(), v.description("Folder under paths.cache.")), "predictions"),
    disk_after: v.optional(
      v.pipe(
        v.number(),
        v.integer(),
        v.minValue(1),
        v.description(
          "Times an entry is asked for (its first answer included) before it is written to disk; 1 writes every entry.",
        ),
      ),
      2,
    ),
  });

const PROMOTED_MS = 5 * 60_000;

/**
 * Memory in front of disk: hot answers come from memory, and the disk keeps them across restarts. Only
 * entries asked for again (`disk_after`) go to disk: inputs seen once are the bulk of the traffic and
 * rarely come back, and writing each would wear a Jetson's SD card and take CPU from the predictions.
 */
function tieredCache(context: PluginContext<OptionsOf<typeof options>>): CacheHooks {
  const memory = new MemoryEntries(context.options.max_entries, context.clock);
  const disk = diskCache({
    ...context,
    options: { max_entries: context.options.disk_max_entries, dir: context.options.dir },
  });
  const { disk_after } = context.options;
  // Exactly at disk_after, so an entry is written once; one promoted from disk starts there and is never rewritten.
  const counted = (key: string, entry: MemoryEntry) => {
    if (entry.asks !== disk_after) return;
    const ttlMs = entry.expiresAt - context.clock.now();
    if (ttlMs > 0) disk.set(key, entry.value, ttlMs);
  };
  let hits = 0;
  let misses = 0;
  return {
    get(key) {
      const entry = memory.get(key);
      let value: unknown;
      if (entry) {
        counted(key, entry);
        value = entry.value;
      } else {
        value = disk.get(key);
        // Promoted for a while; the disk copy keeps its own expiry, and the runtime judges freshness by age.
        if (value !== undefined) memory.set(key, value, PROMOTED_MS, disk_after);
      }
      if (value === undefined) misses++;
      else hits++;
      return value;
    },
    set(key, value, ttlMs) {
      counted(key, memory.set(key, value, ttlMs));
    },
    delete(key) {
      memory.delete(key);
      disk.delete(key);
    },
    clear(model) {
      memory.clear(model);
      disk.clear(model);
    },
    stats: () => ({ entries: disk.stats().entries, hits, misses }),
    flush: () => disk.flush?.() ?? Promise.resolve(),
  };
}

export default {
  kind: "cache",
  name: "tiered",
  version: "1.0.0",
  description: "Memory LRU in front of the disk cache.",
  options,
  setup: tieredCache,
} satisfies PluginModule<"cache", ReturnType<typeof options>>;
