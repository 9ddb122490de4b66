import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { LRUCache } from "lru-cache";
import type { CacheHooks, OptionsOf, PluginContext, PluginLibraries, PluginModule } from "../../runtime/plugin-api.ts";

const options = ({ v }: PluginLibraries) =>
  v.strictObject({
    max_entries: v.optional(
      v.pipe(v.number(), v.integer(), v.minValue(1), v.description("Files kept; the least recently used go first.")),
      100_000,
    ),
    dir: v.optional(v.pipe(v.string(), v.description("Folder under paths.cache.")), "predictions"),
  });

/** Keys are `model/version/hash`, built by the runtime; anything else never becomes a path. */
const SAFE_KEY = /^[a-z0-9][a-z0-9._-]*\/\d+\/[0-9a-f]{8,64}$/;

interface Stored {
  value: unknown;
  expiresAt: number;
}

/** A change waiting for the disk: the entry to write, or its removal. */
type Pending = Stored | "remove";

/** Beyond this many changes waiting for the disk, the oldest writes are given up: the entries are only recomputed. */
const MAX_PENDING = 10_000;

/**
 * Predictions as JSON files under `paths.cache`, so they survive restarts. An in-memory index (key → expiry,
 * least recently used first) answers misses and evictions without touching the disk. Files are written
 * and removed in the background, only the latest change per key, so that a prediction never waits for the
 * disk; until then the entry is answered from memory. Writes are temp + rename without fsync: a cache
 * entry lost to a power cut is only recomputed.
 */
export function diskCache(context: PluginContext<OptionsOf<typeof options>>): CacheHooks {
  const root = join(context.paths.cache, context.options.dir);
  mkdirSync(root, { recursive: true });
  const fileOf = (key: string) => join(root, `${key}.json`);
  const index = new LRUCache<string, number>({
    max: context.options.max_entries,
    dispose: (_expiresAt, key, reason) => reason === "evict" && enqueue(key, "remove"),
  });
  const pending = new LRUCache<string, Pending>({
    max: MAX_PENDING,
    dispose: (change, key, reason) => reason === "evict" && change !== "remove" && index.delete(key),
  });
  /** The batch being written now; still answered from memory until its file is in place. */
  let writing = new Map<string, Pending>();
  const madeDirs = new Set<string>();
  let writer: Promise<void> | undefined;
  let hits = 0;
  let misses = 0;

  const enqueue = (key: string, change: Pending) => {
    pending.set(key, change);
    writer ??= writeAll().finally(() => (writer = undefined));
  };
  const apply = async (key: string, change: Pending) => {
    const file = fileOf(key);
    if (change === "remove") return void (await rm(file, { force: true }));
    const dir = dirname(file);
    if (!madeDirs.has(dir)) {
      // One level at a time below the cache's own folder, never that folder or above it: a home deleted
      // under the daemon is not rebuilt piece by piece.
      await makeDir(dirname(dir));
      await makeDir(dir);
      madeDirs.add(dir);
    }
    const temp = `${file}.${process.pid}.partial`;
    await writeFile(temp, JSON.stringify(change));
    await rename(temp, file);
  };
  const writeAll = async () => {
    let failures = 0;
    while (pending.size > 0) {
      writing = new Map(pending.entries());
      pending.clear();
      for (const [key, change] of writing) {
        // A newer change of the same key is already waiting and will be applied instead.
        if (!pending.has(key)) {
          try {
            await apply(key, change);
          } catch (error) {
            madeDirs.clear();
            // A folder removed by clear() under a write in flight is expected, not worth a warning.
            if (index.has(key) && failures++ === 0)
              context.logger.warn("could not write a cached prediction to disk", {
                file: fileOf(key),
                error: error instanceof Error ? error.message : String(error),
              });
          }
          // Cleared while it was being written: the file must not outlive its entry.
          if (change !== "remove" && !index.has(key) && !pending.has(key))
            await rm(fileOf(key), { force: true }).catch(() => undefined);
        }
        writing.delete(key);
      }
    }
  };
  const drop = (key: string) => {
    index.delete(key);
    enqueue(key, "remove");
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
      const waiting = pending.get(key) ?? writing.get(key);
      if (waiting !== undefined && waiting !== "remove") {
        hits++;
        return waiting.value;
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
      enqueue(key, { value, expiresAt });
      index.set(key, expiresAt);
    },
    delete: drop,
    clear(model) {
      madeDirs.clear();
      if (model === undefined) {
        index.clear();
        pending.clear();
        writing.clear();
        for (const name of safeList(root)) rmSync(join(root, name), { recursive: true, force: true });
        return;
      }
      for (const key of [...index.keys(), ...pending.keys(), ...writing.keys()]) {
        if (!key.startsWith(`${model}/`)) continue;
        index.delete(key);
        pending.delete(key);
        writing.delete(key);
      }
      if (/^[a-z0-9][a-z0-9._-]*$/.test(model)) rmSync(join(root, model), { recursive: true, force: true });
    },
    stats: () => ({ entries: index.size, hits, misses }),
    async flush() {
      while (writer) await writer;
    },
  };
}

async function makeDir(path: string): Promise<void> {
  try {
    await mkdir(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
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
