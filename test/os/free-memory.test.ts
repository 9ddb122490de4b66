import { expect, test } from "bun:test";
import { glibcVersion } from "../../runtime/hardware/glibc.ts";
import { releaseFreeMemory } from "../../runtime/os/free-memory.ts";

test("freed memory goes back through a full collection and, on glibc, malloc_trim; the RSS is reported", () => {
  const released = releaseFreeMemory();
  expect(released.trimmed).toBe(glibcVersion() !== undefined);
  expect(released.before).toBeGreaterThan(0);
  expect(released.after).toBeGreaterThan(0);
});
