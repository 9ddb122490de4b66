import { describe, expect, test } from "bun:test";
import { type BatchOptions, type BatchReadStats, readCsvBatches } from "../../runtime/data/csv-batches.ts";
import { type ColumnChoice, readCsvTable } from "../../runtime/data/csv-table.ts";
import { EdgetrainError } from "../../runtime/errors.ts";
import { edgetrainErrorOf as errorOf, tempDir } from "../helpers.ts";

const fail: ColumnChoice = { label: "label", onBadCell: "fail", allowMissingLabel: true };

/** Every batch of a file as plain rows (the batch arrays are reused, so each is copied), and the read's stats. */
async function readAll(file: string, choice: ColumnChoice, options: BatchOptions) {
  const rows: Array<{ line: number; x: number[]; kept: string[] }> = [];
  const sizes: number[] = [];
  const skipped: string[] = [];
  const reader = readCsvBatches(file, choice, options);
  let next = await reader.next();
  while (!next.done) {
    const batch = next.value;
    const width = batch.featureNames.length;
    sizes.push(batch.rows);
    skipped.push(...batch.skipped);
    for (let r = 0; r < batch.rows; r++) {
      const kept = Object.values(batch.kept).map((column) => column[r]!);
      rows.push({ line: batch.lines[r]!, x: Array.from(batch.x.subarray(r * width, (r + 1) * width)), kept });
    }
    next = await reader.next();
  }
  return { rows, sizes, skipped, stats: next.value as BatchReadStats };
}

describe("reading a file in batches", () => {
  test("gives the rows of the whole-file read, with their lines, across chunk and batch ends", async () => {
    await using dir = tempDir();
    const body = [
      "\ufeffid,hr,speed,note\r\n",
      'a1,90,1.5e0,"quoted, with a comma"\r\n',
      'a2,"72.5",2,"two\nlines"\r\n',
      "\r\n",
      "a3,-3E-2,0.25,plain\r\n",
      ...Array.from({ length: 40 }, (_, i) => `b${i},${i * 3},${i / 4},n${i}\r\n`),
      "last,7,8,no newline",
    ].join("");
    const file = dir.write("in.csv", body);
    const whole = await readCsvTable([file], { ...fail, features: ["hr", "speed"], keep: ["id"] });
    for (const batchRows of [1, 3, 7, 1000]) {
      for (const chunkBytes of [64, 65, 97, 1 << 20]) {
        const { rows, sizes } = await readAll(
          file,
          { ...fail, features: ["hr", "speed"], keep: ["id"] },
          { batchRows, chunkBytes },
        );
        expect(rows.map((row) => row.x)).toEqual(
          Array.from({ length: whole.labels.length }, (_, r) => [whole.x[r * 2]!, whole.x[r * 2 + 1]!]),
        );
        expect(rows.map((row) => row.kept[0])).toEqual(whole.kept.id!);
        expect(Math.max(...sizes)).toBeLessThanOrEqual(batchRows);
        // The quoted line break moves a3 to line 6, after the empty line 5.
        expect(rows.slice(0, 3).map((row) => row.line)).toEqual([2, 3, 6]);
        expect(rows.at(-1)).toEqual({ line: 47, x: [7, 8], kept: ["last"] });
      }
    }
  });

  test("without features named, the numeric columns are found as the whole-file read finds them", async () => {
    await using dir = tempDir();
    const file = dir.write("in.csv", "time,a,b\n2026-01-01,1,2\n2026-01-02,3,4\n");
    const { rows } = await readAll(file, fail, { batchRows: 1 });
    expect(rows.map((row) => row.x)).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  test("a bad cell fails the read with file, line and column, or skips its row, said once", async () => {
    await using dir = tempDir();
    const lines = ["hr,speed", ...Array.from({ length: 30 }, (_, i) => (i === 17 ? "80,fast" : `${i},${i + 1}`))];
    const file = dir.write("bad.csv", `${lines.join("\n")}\n`);
    const choice: ColumnChoice = { ...fail, features: ["hr", "speed"] };
    let error: unknown;
    try {
      await readAll(file, choice, { batchRows: 4, chunkBytes: 64 });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(EdgetrainError);
    expect((error as EdgetrainError).message).toBe(`${file} line 19: column speed is not a number: "fast"`);
    expect((error as EdgetrainError).details).toMatchObject({ file, line: 19, column: "speed", columnNumber: 2 });
    const skipped = await readAll(file, { ...choice, onBadCell: "skip-row" }, { batchRows: 4, chunkBytes: 64 });
    expect(skipped.rows.length).toBe(29);
    expect(skipped.skipped).toEqual([`${file} line 19: column speed is not a number: "fast"`]);
    expect(skipped.rows.map((row) => row.line)).not.toContain(19);
  });

  test("a row with more fields than the header fails the read with file and line, or is skipped", async () => {
    await using dir = tempDir();
    const lines = ["hr,speed", ...Array.from({ length: 30 }, (_, i) => (i === 17 ? "80,1,7,8" : `${i},${i + 1}`))];
    const file = dir.write("wide.csv", `${lines.join("\n")}\n`);
    const error = await errorOf(readAll(file, fail, { batchRows: 4, chunkBytes: 64 }));
    expect(error.message).toBe(`${file} line 19: expected 2 fields, got 4`);
    expect(error.details).toEqual({ file, line: 19, columnNumber: 3, expected: 2, found: 4 });
    const skipped = await readAll(file, { ...fail, onBadCell: "skip-row" }, { batchRows: 4, chunkBytes: 64 });
    expect(skipped.skipped).toEqual([`${file} line 19: expected 2 fields, got 4`]);
    expect(skipped.rows.map((row) => row.line)).not.toContain(19);
    expect(skipped.rows.length).toBe(29);
  });

  test("a number past float32's range is a bad cell, as in the whole-file read", async () => {
    await using dir = tempDir();
    const file = dir.write("big.csv", "hr,speed\n1,2\n3,-2e39\n3.4e38,4\n");
    const error = await errorOf(readAll(file, fail, { batchRows: 1 }));
    expect(error.message).toBe(`${file} line 3: column speed is past float32's range (±3.4e38): "-2e39"`);
    expect(error.details).toEqual({ file, line: 3, column: "speed", columnNumber: 2 });
    const skipped = await readAll(file, { ...fail, onBadCell: "skip-row" }, { batchRows: 1 });
    expect(skipped.rows.map((row) => row.x)).toEqual([
      [1, 2],
      [Math.fround(3.4e38), 4],
    ]);
  });

  test("a column the read uses, named twice in the header, fails the read at line 1", async () => {
    await using dir = tempDir();
    const file = dir.write("dup.csv", "hr,speed,hr\n1,2,3\n");
    for (const choice of [fail, { ...fail, features: ["hr", "speed"] }]) {
      const error = await errorOf(readAll(file, choice, { batchRows: 4 }));
      expect(error.message).toBe(`${file} line 1: column "hr" is in the header twice (columns 1 and 3)`);
      expect(error.details).toEqual({ file, line: 1, column: "hr", columnNumber: 3 });
    }
  });

  test("holds one chunk and one batch whatever the file's size", async () => {
    // The bound is proved by what the read allocates, as for the whole-file read: a file ten times larger
    // holds the same buffers, so a file larger than memory streams through them too.
    await using dir = tempDir();
    const write = (name: string, rows: number) =>
      dir.write(
        name,
        "a,b,c,d\n" +
          Array.from({ length: rows }, (_, r) => `${r},${r % 7},${r / 8},${(r * 31) % 1000}`).join("\n") +
          "\n",
      );
    const small = await readAll(write("small.csv", 20_000), fail, { batchRows: 512, chunkBytes: 4096 });
    const large = await readAll(write("large.csv", 200_000), fail, { batchRows: 512, chunkBytes: 4096 });
    expect(large.rows.length).toBe(200_000);
    expect(large.stats).toEqual({
      bufferBytes: 4096,
      batchBytes: 512 * 4 * 4,
      batches: Math.ceil(200_000 / 512),
      rows: 200_000,
    });
    expect({ ...small.stats, batches: 0, rows: 0 }).toEqual({ ...large.stats, batches: 0, rows: 0 });
  });
});
