import { expect, test } from "bun:test";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import diskCache from "../../plugins/caches/disk.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import type { CacheHooks } from "../../runtime/plugin-api.ts";
import { instantiate } from "../../runtime/plugins/instantiate.ts";
import { registryOf } from "../../runtime/plugins/registry.ts";
import { pathsIn, tempDir } from "../helpers.ts";

function openCache(cacheDir: string, options: Record<string, unknown> = {}): Promise<CacheHooks> {
  return instantiate("cache", "disk", options, {
    plugins: registryOf([diskCache]),
    logger: silentLogger,
    paths: pathsIn(cacheDir),
  });
}

const key = (model: string, n: number) => `${model}/1/${n.toString(16).padStart(16, "0")}`;
const filesOf = (dir: string, model: string) =>
  existsSync(join(dir, "predictions", model, "1")) ? readdirSync(join(dir, "predictions", model, "1")) : [];

test(
  "the disk cache answers entries before their files land, writes them in the background, and keeps them across a " +
    "restart",
  async () => {
    await using dir = tempDir();
    const cache = await openCache(dir.path);
    for (let n = 0; n < 200; n++) cache.set(key("walk", n), { label: `walk-${n}` }, 60_000);
    expect(cache.get(key("walk", 199))).toEqual({ label: "walk-199" });
    await cache.flush!();
    expect(filesOf(dir.path, "walk").filter((name) => name.endsWith(".json"))).toHaveLength(200);
    expect(filesOf(dir.path, "walk").some((name) => name.endsWith(".partial"))).toBe(false);

    const reopened = await openCache(dir.path);
    expect(reopened.stats().entries).toBe(200);
    expect(reopened.get(key("walk", 7))).toEqual({ label: "walk-7" });
  },
);

test("entries cleared or evicted while their writes wait leave no file behind", async () => {
  await using dir = tempDir();
  const cache = await openCache(dir.path, { max_entries: 50 });
  for (let n = 0; n < 100; n++) cache.set(key("run", n), n, 60_000);
  for (let n = 0; n < 100; n++) cache.set(key("sprint", n), n, 60_000);
  cache.clear("sprint");
  expect(cache.get(key("sprint", 3))).toBeUndefined();
  await cache.flush!();
  expect(filesOf(dir.path, "sprint")).toEqual([]);
  expect(filesOf(dir.path, "run")).toEqual([]);
  expect(cache.stats().entries).toBe(0);

  for (let n = 0; n < 80; n++) cache.set(key("run", n), n, 60_000);
  await cache.flush!();
  expect(filesOf(dir.path, "run").sort()).toEqual(
    Array.from({ length: 50 }, (_, i) => `${key("run", i + 30).split("/")[2]}.json`).sort(),
  );
});

test("a cache folder deleted under the daemon is not made again: its entries become misses", async () => {
  await using dir = tempDir();
  const cacheDir = join(dir.path, "cache");
  const cache = await openCache(cacheDir);
  cache.set(key("walk", 1), "before", 60_000);
  await cache.flush!();
  rmSync(cacheDir, { recursive: true, force: true });
  cache.set(key("jog", 2), "after", 60_000);
  await cache.flush!();
  expect(existsSync(cacheDir)).toBe(false);
  expect(cache.get(key("jog", 2))).toBeUndefined();
});
