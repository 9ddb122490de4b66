import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { diskIsFull } from "../../runtime/files/disk-space.ts";
import { diskUsage, freeSpace } from "../../runtime/files/disk-usage.ts";
import { tempDir } from "../helpers.ts";

describe("free space of a home", () => {
  test("a home not made yet is measured on the disk of its nearest folder", async () => {
    await using dir = tempDir();
    const home = join(dir.path, "not", "made");
    expect(freeSpace(home)).toEqual({ path: dir.path, bytes: expect.any(Number) });
    expect(freeSpace(home)!.bytes).toBeGreaterThan(0);
    expect(diskUsage(home)!.sizeBytes).toBeGreaterThan(0);
  });

  test.skipIf(!existsSync("/proc/self"))(
    "a file system of no size (/proc) cannot tell: its zero free blocks are no full disk",
    () => {
      expect(freeSpace("/proc/edgetrain-home")).toBeUndefined();
      expect(diskUsage("/proc/edgetrain-home")).toBeUndefined();
      expect(diskIsFull("/proc/edgetrain-home")).toBe(false);
    },
  );
});
