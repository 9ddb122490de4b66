import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { runCli, tempDir } from "../helpers.ts";
import { tinyDisk, tinyDiskUnavailable } from "../tiny-disk.ts";

const PROFILE = `extends: base
governor: { max_cpu_before: 100, max_memory_before: 100, pause_cpu: 100, pause_memory: 100, sample_interval: 200ms }
jobs:
  activity:
    strategy: random-forest
    options: { n_estimators: 5, max_depth: 4 }
    data: { source: sessions, path: athletes, sessions_to_use: 3, debounce: 0 }
    triggers: [{ type: manual }]
`;

/** Every file and folder under `dir`, relative, sorted. */
const listing = (dir: string) => readdirSync(dir, { recursive: true }).map(String).sort();

describe.skipIf(tinyDiskUnavailable !== undefined)(`the disk of the home is full${tinyDiskUnavailable ? ` (skipped: ${tinyDiskUnavailable})` : ""}`, () => {
  test("a daemon started on a full disk exits 5, names the home, and leaves nothing behind", async () => {
    await using disk = tinyDisk(2);
    await using dir = tempDir();
    const home = join(disk.path, "home");
    const profile = dir.write("profile.yaml", PROFILE);
    disk.fill();
    const result = await runCli(["run", "--home", home, "--profile", profile, "--port", "0", "--headless"], { home: dir.path });
    expect(result.code).toBe(5);
    expect(result.stderr).toStartWith(`edgetrain: the disk of the home ${home} is full (0 B free): nothing was started\n  hint: free space there`);
    expect(listing(disk.path)).toEqual([".filler", join(".filler", "fill")]);
  });
});
