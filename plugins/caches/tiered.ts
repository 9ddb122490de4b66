import type { CacheHooks, OptionsOf, PluginContext, PluginLibraries, PluginModule } from "../../runtime/plugin-api.ts";
import { diskCache } from "./disk.ts";
import { memoryCache } from "./memory.ts";

const options = ({ v }: PluginLibraries) =>
  v.strictObject({
    max_entries: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.description("Entries kept in memory.")), 10_000),
    disk_max_entries: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.description("Files kept on disk.")), 100_000),
    dir: v.optional(v.pipe(v.string(), v.description("Folder under paths.cache.")), "predictions"),
  });

const PROMOTED_MS = 5 * 60_000;

/** Memory in front of disk: hot answers come from memory, and the disk keeps them across restarts. */
function tieredCache(context: PluginContext<OptionsOf<typeof options>>): CacheHooks {
  const memory = memoryCache({ ...context, options: { max_entries: context.options.max_entries } });
  const disk = diskCache({ ...context, options: { max_entries: context.options.disk_max_entries, dir: context.options.dir } });
  let hits = 0;
  let misses = 0;
  return {
    get(key) {
      let value = memory.get(key);
      if (value === undefined) {
        value = disk.get(key);
        // Promoted for a while; the disk copy keeps its own expiry, and the runtime judges freshness by age.
        if (value !== undefined) memory.set(key, value, PROMOTED_MS);
      }
      if (value === undefined) misses++;
      else hits++;
      return value;
    },
    set(key, value, ttlMs) {
      memory.set(key, value, ttlMs);
      disk.set(key, value, ttlMs);
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
