import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openAtomically, writeAtomically, writeAtomicallyAsync } from "../../runtime/files/write-atomically.ts";
import { openState } from "../../runtime/state/database.ts";
import { ModelStore } from "../../runtime/store/model-store.ts";
import { tempDir } from "../helpers.ts";
import { tinyDisk, tinyDiskUnavailable } from "../tiny-disk.ts";

const sizes = [1, 100, 4095, 4096, 4097, 20_000, 65_536, 100_000, 150_000];
/** Space left free on the disk before each write, so some writes fit, some fail at once, most fail halfway. */
const freeBytes = [0, 4096, 16_384, 65_536, 131_072];

function contentOf(size: number, seed: number): Buffer {
  return Buffer.from(Array.from({ length: size }, (_, i) => (i * 31 + seed) % 251));
}

/** Fills the disk until `free` bytes are left. */
function fillUntil(dir: string, free: number): void {
  const { bavail, bsize } = statfsSync(dir);
  writeFileSync(join(dir, "filler"), Buffer.alloc(Math.max(0, bavail * bsize - free)));
}

function leftovers(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((name) =>
    /\.partial$|\.incoming-|\.tmp$/.test(name),
  );
}

describe.skipIf(tinyDiskUnavailable !== undefined)(
  `a full disk${tinyDiskUnavailable ? ` (skipped: ${tinyDiskUnavailable})` : ""}`,
  () => {
    for (const [name, write] of [
      ["writeAtomically", async (path: string, content: Buffer) => writeAtomically(path, content)],
      ["writeAtomicallyAsync", (path: string, content: Buffer) => writeAtomicallyAsync(path, content)],
      [
        "openAtomically",
        async (path: string, content: Buffer) => {
          // Written in pieces, as batch scoring writes its predictions.
          const file = await openAtomically(path);
          for (let at = 0; at < content.length; at += 4096) await file.write(content.subarray(at, at + 4096));
          await file.commit();
        },
      ],
    ] as const) {
      test(`${name}: a file under its final name is whole (old or new content), and no temporary file is ` +
        `left`, async () => {
        await using disk = tinyDisk("512k");
        let failures = 0;
        for (const free of freeBytes) {
          for (const size of sizes) {
            // A new file, and one replaced as active.json is: the old content must survive a failed write whole.
            const fresh = join(disk.path, `fresh-${size}`);
            const replaced = join(disk.path, `replaced-${size}`);
            const old = contentOf(200, 7);
            writeFileSync(replaced, old);
            fillUntil(disk.path, free);
            const content = contentOf(size, free);
            for (const path of [fresh, replaced]) {
              const failure = await write(path, content).then(
                () => undefined,
                (error: NodeJS.ErrnoException) => error,
              );
              if (!failure) expect(readFileSync(path).equals(content)).toBe(true);
              else {
                failures++;
                if (path === fresh) expect(existsSync(path)).toBe(false);
                else expect(readFileSync(path).equals(old) || readFileSync(path).equals(content)).toBe(true);
                expect(failure.message).toBe(`could not write ${path}: the disk is full (no space left on device)`);
                expect(failure.code).toBe("ENOSPC");
              }
              expect(leftovers(disk.path)).toEqual([]);
            }
            rmSync(join(disk.path, "filler"));
            rmSync(fresh, { force: true });
            rmSync(replaced);
          }
        }
        // The disk really was too small for most of the writes.
        expect(failures).toBeGreaterThan(sizes.length * 2);
      }, 60_000);
    }

    test("ModelStore.addVersion: a version's model file is whole or the version does not exist, and nothing is left " +
      "half-copied", async () => {
      await using dir = tempDir();
      await using disk = tinyDisk("512k");
      const state = openState(join(dir.path, "state"));
      const store = new ModelStore(disk.path, state.db);
      let failures = 0;
      let trial = 0;
      for (const free of freeBytes) {
        for (const size of sizes) {
          const model = `m-${trial++}`;
          const content = contentOf(size, trial);
          const artifact = join(dir.path, "model.onnx");
          writeFileSync(artifact, content);
          fillUntil(disk.path, free);
          const added = await store
            .addVersion(model, artifact, { metrics: { accuracy: 1 } })
            .catch((error: Error) => error);
          if (added instanceof Error) {
            failures++;
            expect(readdirSync(join(disk.path, model))).toEqual([]);
            expect(added.message).toStartWith(`could not write ${join(disk.path, model)}/`);
            expect(added.message).toEndWith(": the disk is full (no space left on device)");
          } else {
            expect(added.path).toBe(join(disk.path, model, "1", "model.onnx"));
            expect(readFileSync(added.path).equals(content)).toBe(true);
          }
          expect(leftovers(disk.path)).toEqual([]);
          rmSync(join(disk.path, "filler"));
          rmSync(join(disk.path, model), { recursive: true });
        }
      }
      expect(failures).toBeGreaterThan(sizes.length);
      state.close();
    }, 60_000);
  },
);
