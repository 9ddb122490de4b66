import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { CacheHooks, OptionsOf, PluginContext, PluginLibraries, PluginModule } from "../../runtime/plugin-api.ts";

const options = ({ v }: PluginLibraries) =>
  v.strictObject({
    max_entries: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.description("Files kept; the oldest written go first.")), 100_000),
    dir: v.optional(v.pipe(v.string(), v.description("Folder under paths.cache.")), "predictions"),
  });

/** Keys are `model/version/hash`, built by the runtime; anything else never becomes a path. */
const SAFE_KEY = /^[a-z0-9][a-z0-9._-]*\/\d+\/[0-9a-f]{8,64}$/;

interface Stored {
  value: unknown;
  expiresAt: number;
}

/**
 * Predictions as JSON files under `paths.cache`, so they survive restarts. An in-memory index (key → expiry,
 * in write order) answers misses and evictions without touching the disk. Writes are temp + rename without
 * fsync: a cache entry lost to a power cut is only recomputed.
 */
export function diskCache(context: PluginContext<OptionsOf<typeof options>>): CacheHooks {
  const root = join(context.paths.cache, context.options.dir);
  mkdirSync(root, { recursive: true });
  const index = new Map<string, number>();
  let hits = 0;
  let misses = 0;
  const fileOf = (key: string) => join(root, `${key}.json`);
  const drop = (key: string) => {
    index.delete(key);
    rmSync(fileOf(key), { force: true });
  };
  for (const model of safeList(root)) {
    for (const version of safeList(join(root, model))) {
      for (const file of safeList(join(root, model, version))) {
        const key = `${model}/${version}/${file.replace(/\.json$/, "")}`;
        if (!file.endsWith(".json") || !SAFE_KEY.test(key)) continue;
        try {
          const stored = JSON.parse(readFileSync(fileOf(key), "utf8")) as Stored;
          if (stored.expiresAt > context.clock.now()) index.set(key, stored.expiresAt);
          else rmSync(fileOf(key), { force: true });
        } catch {
          rmSync(fileOf(key), { force: true });
        }
      }
    }
  }
  return {
    get(key) {
      const expiresAt = index.get(key);
      if (expiresAt === undefined || expiresAt <= context.clock.now()) {
        if (expiresAt !== undefined) drop(key);
        misses++;
        return undefined;
      }
      try {
        const stored = JSON.parse(readFileSync(fileOf(key), "utf8")) as Stored;
        hits++;
        return stored.value;
      } catch {
        // Cleared from outside, or damaged: a miss, and the entry is forgotten.
        drop(key);
        misses++;
        return undefined;
      }
    },
    set(key, value, ttlMs) {
      if (!SAFE_KEY.test(key)) return;
      const expiresAt = context.clock.now() + ttlMs;
      const file = fileOf(key);
      mkdirSync(dirname(file), { recursive: true });
      const temp = `${file}.${process.pid}.partial`;
      writeFileSync(temp, JSON.stringify({ value, expiresAt } satisfies Stored));
      renameSync(temp, file);
      index.delete(key);
      index.set(key, expiresAt);
      while (index.size > context.options.max_entries) drop(index.keys().next().value as string);
    },
    delete: drop,
    clear(model) {
      if (model === undefined) {
        index.clear();
        for (const name of safeList(root)) rmSync(join(root, name), { recursive: true, force: true });
        return;
      }
      for (const key of [...index.keys()]) if (key.startsWith(`${model}/`)) index.delete(key);
      if (/^[a-z0-9][a-z0-9._-]*$/.test(model)) rmSync(join(root, model), { recursive: true, force: true });
    },
    stats: () => ({ entries: index.size, hits, misses }),
  };
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir).filter((name) => !name.startsWith("."));
  } catch {
    return [];
  }
}

export default {
  kind: "cache",
  name: "disk",
  version: "1.0.0",
  description: "Predictions as JSON files under paths.cache; survives restarts.",
  options,
  setup: diskCache,
} satisfies PluginModule<"cache", ReturnType<typeof options>>;
