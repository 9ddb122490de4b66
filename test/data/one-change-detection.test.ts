import { expect, test } from "bun:test";
import { join } from "node:path";
import { Glob } from "bun";
import { repoRoot } from "../helpers.ts";

test("data files are fingerprinted in one place: only runtime/data/changes.ts reads their size and mtime", async () => {
  const readers: string[] = [];
  let scanned = 0;
  const folders = ["plugins/", "runtime/data/", "runtime/training/", "runtime/scheduler/"];
  for await (const file of new Glob("{plugins,runtime}/**/*.ts").scan(repoRoot)) {
    if (file === "runtime/data/changes.ts" || !folders.some((folder) => file.startsWith(folder))) continue;
    scanned++;
    if (/\bmtimeMs\b/.test(await Bun.file(join(repoRoot, file)).text())) readers.push(file);
  }
  expect(scanned).toBeGreaterThan(20);
  expect(readers).toEqual([]);
});
