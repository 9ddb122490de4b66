import { heapStats } from "bun:jsc";
import { describe, expect, test } from "bun:test";
import { type ColumnChoice, readCsvHeader, readCsvTable } from "../../runtime/data/csv-table.ts";
import { edgetrainErrorOf as errorOf, tempDir } from "../helpers.ts";

const fail: ColumnChoice = { label: "label", onBadCell: "fail" };
const skip: ColumnChoice = { label: "label", onBadCell: "skip-row" };
// Chunk sizes that put chunk ends inside fields, between CR and LF, and inside quoted fields.
const smallChunks = [64, 65, 97, 1000];

/** A table as plain data, the floats by their bits, for comparing reads with each other. */
function plain(table: Awaited<ReturnType<typeof readCsvTable>>) {
  const { readStats: _, x, fileOfRow, ...rest } = table;
  return {
    ...rest,
    x: Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length)),
    fileOfRow: Array.from(fileOfRow),
  };
}

describe("the byte parser", () => {
  test("a quoted field may hold commas, doubled quotes and line breaks; a quoted number is a number", async () => {
    await using dir = tempDir();
    const file = dir.write(
      "q.csv",
      'name,hr,note,label\n"Smith, J.",90,"said ""hi""\nthen left",run\nDoe,"72.5",plain,walk\n',
    );
    const table = await readCsvTable([file], { ...fail, keep: ["note"] });
    expect(table.featureNames).toEqual(["hr"]);
    expect(table.excludedColumns).toEqual(["name"]);
    expect(Array.from(table.x)).toEqual([90, 72.5]);
    expect(table.labels).toEqual(["run", "walk"]);
    expect(table.kept.note).toEqual(['said "hi"\nthen left', "plain"]);
  });

  test("CRLF line ends give the same table as LF, whatever the chunk boundaries", async () => {
    await using dir = tempDir();
    const rows = Array.from({ length: 300 }, (_, i) =>
      [`t${i}`, i, (i % 13) / 4, `"k,${i % 3}"`, i % 2 ? "run" : "walk"].join(","),
    );
    const lf = dir.write("lf.csv", `${["time,hr,speed,key,label", ...rows].join("\n")}\n`);
    const crlf = dir.write("crlf.csv", `${["time,hr,speed,key,label", ...rows].join("\r\n")}\r\n`);
    const expected = plain(await readCsvTable([lf], { ...fail, keep: ["key"] }));
    expect(expected.labels.slice(0, 2)).toEqual(["walk", "run"]);
    expect(expected.kept.key!.slice(0, 2)).toEqual(["k,0", "k,1"]);
    for (const chunkBytes of [...smallChunks, 1 << 20]) {
      const table = await readCsvTable([crlf], { ...fail, keep: ["key"] }, { chunkBytes });
      expect({ ...plain(table), files: [] }).toEqual({ ...expected, files: [] });
    }
  });

  test("a UTF-8 byte-order mark is not part of the first column's name", async () => {
    await using dir = tempDir();
    const file = dir.write("bom.csv", "\uFEFFhr,speed,label\n1,2,a\n3,4,b\n");
    const table = await readCsvTable([file], fail);
    expect(table.featureNames).toEqual(["hr", "speed"]);
    expect(Array.from(table.x)).toEqual([1, 2, 3, 4]);
    const chosen = await readCsvTable([file], { ...fail, features: ["hr"] });
    expect(Array.from(chosen.x)).toEqual([1, 3]);
  });

  test("the last line may lack its newline, after LF or CRLF lines", async () => {
    await using dir = tempDir();
    for (const [name, text] of [
      ["lf.csv", "hr,label\n1,a\n2,b"],
      ["crlf.csv", "hr,label\r\n1,a\r\n2,b"],
      ["quoted.csv", 'hr,label\n1,a\n2,"b"'],
    ]) {
      const file = dir.write(name!, text!);
      for (const chunkBytes of [64, 1 << 20]) {
        const table = await readCsvTable([file], fail, { chunkBytes });
        expect(Array.from(table.x)).toEqual([1, 2]);
        expect(table.labels).toEqual(["a", "b"]);
      }
    }
  });

  test("exponents and every other form of number read exactly as Number() and a float32 store read them", async () => {
    await using dir = tempDir();
    const forms = [
      "1e3",
      "2.5E-2",
      "-1e+2",
      ".5",
      "5.",
      "+7",
      " 8 ",
      "\t9",
      "-0",
      "0x10",
      "1e-30",
      "123456789012345678901",
      "3.4028234e38",
      "1.00000005960464477539",
      "0.1",
      "-273.15",
    ];
    let seed = 7;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (let i = 0; i < 2000; i++) {
      const sign = random() < 0.3 ? "-" : "";
      const whole = Math.floor(random() * 10 ** (1 + Math.floor(random() * 9)));
      const fraction = String(Math.floor(random() * 1e6)).padStart(6, "0");
      const exponent = random() < 0.2 ? `e${Math.floor(random() * 40) - 20}` : "";
      forms.push(`${sign}${whole}.${fraction}${exponent}`);
    }
    const file = dir.write("n.csv", `v,label\n${forms.map((cell) => `${cell},x`).join("\n")}\n`);
    const table = await readCsvTable([file], { ...fail, features: ["v"] });
    const expected = Float32Array.from(forms, (cell) => Number(cell));
    expect(Array.from(new Uint32Array(table.x.buffer, table.x.byteOffset, table.x.length))).toEqual(
      Array.from(new Uint32Array(expected.buffer)),
    );
  });

  test(
    "NaN, empty and missing cells are bad cells, with file, line and column; skip-row skips and lists " + "them",
    async () => {
      await using dir = tempDir();
      // 70 good rows first: in the 64 rows that decide the layout, a NaN would make the column non-numeric.
      const good = Array.from({ length: 70 }, (_, i) => `t,${i},${i},a`);
      const text = `${[
        "time,hr,speed,label",
        ...good,
        "t,3,NaN,b",
        "",
        "t,,5,c",
        "t,6",
        "t,7,Infinity,d",
        "t,8,9,",
        "t,10,11,e",
      ].join("\n")}\n`;
      const file = dir.write("player_1/TR1.csv", text);
      const error = await errorOf(readCsvTable([file], { ...fail, displayRoot: dir.path }));
      expect(error.message).toBe('player_1/TR1.csv line 72: column speed is not a number: "NaN"');
      expect(error.details).toEqual({ file, line: 72, column: "speed", columnNumber: 3 });
      const table = await readCsvTable([file], { ...skip, displayRoot: dir.path });
      expect(table.skipped).toEqual([
        'player_1/TR1.csv line 72: column speed is not a number: "NaN"',
        "player_1/TR1.csv line 74: column hr is empty", // the empty line 73 still counts
        "player_1/TR1.csv line 75: column speed is empty",
        'player_1/TR1.csv line 76: column speed is not a number: "Infinity"',
        "player_1/TR1.csv line 77: column label is empty",
      ]);
      expect(Array.from(table.x.subarray(-4))).toEqual([69, 69, 10, 11]);
      expect(table.labels.slice(-2)).toEqual(["a", "e"]);
      const label = await errorOf(readCsvTable([dir.write("l.csv", "hr,label\n1,a\n2, \n")], fail));
      expect(label.details).toMatchObject({ line: 3, column: "label", columnNumber: 2 });
    },
  );

  test("a row with more fields than the header is a bad row, like a short one: fails, or is skipped", async () => {
    await using dir = tempDir();
    // Before, the extra fields were dropped without a word, whatever cells they pushed out of place.
    const text = 'a,b,label\n1,2,x\n3,4,1,7,8\n5,6,y,\n"7\n",8,z,"9\n"\nq,,r,s\n9,10,w\n';
    const file = dir.write("wide.csv", text);
    // Named, or the "q" among the first rows would leave column a out as text.
    const named = { features: ["a", "b"], displayRoot: dir.path };
    for (const chunkBytes of [...smallChunks, 1 << 20]) {
      const error = await errorOf(readCsvTable([file], { ...fail, ...named }, { chunkBytes }));
      expect(error.message).toBe("wide.csv line 3: expected 3 fields, got 5");
      expect(error.details).toEqual({ file, line: 3, columnNumber: 4, expected: 3, found: 5 });
      const table = await readCsvTable([file], { ...skip, ...named }, { chunkBytes });
      expect(table.skipped).toEqual([
        "wide.csv line 3: expected 3 fields, got 5",
        "wide.csv line 4: expected 3 fields, got 4", // a trailing comma is one more, empty field
        "wide.csv line 7: expected 3 fields, got 4", // lines 5-7: said on the record's last line
        "wide.csv line 8: expected 3 fields, got 4", // said before the bad cells
      ]);
      expect(Array.from(table.x)).toEqual([1, 2, 9, 10]);
      expect(table.labels).toEqual(["x", "w"]);
    }
  });

  test("a number past float32's range is a bad cell naming file, line and column, on every parse path", async () => {
    await using dir = tempDir();
    // Before, these became ±Infinity in the table. 3.4028235e38 is how float32's largest value prints: it stays.
    const text = [
      "a,b,label",
      "1,2,x",
      "1e39,2,y",
      '3,"-2e39",z',
      "4, 1e400 ,w",
      "3.4028235e38,-3.4e38,v",
      "1e-50,9007199254740991e22,u",
    ].join("\n");
    const file = dir.write("big.csv", `${text}\n`);
    // 1e39 is still a number when the first rows decide the layout; 1e400 is not (a double's Infinity).
    expect((await readCsvTable([file], { ...skip, displayRoot: dir.path })).featureNames).toEqual(["a"]);
    const error = await errorOf(readCsvTable([file], { ...fail, displayRoot: dir.path }));
    expect(error.message).toBe(`big.csv line 3: column a is past float32's range (±3.4e38): "1e39"`);
    expect(error.details).toEqual({ file, line: 3, column: "a", columnNumber: 1 });
    for (const chunkBytes of [...smallChunks, 1 << 20]) {
      const named = { features: ["a", "b"], displayRoot: dir.path };
      const table = await readCsvTable([file], { ...skip, ...named }, { chunkBytes });
      expect(table.skipped).toEqual([
        `big.csv line 3: column a is past float32's range (±3.4e38): "1e39"`,
        `big.csv line 4: column b is past float32's range (±3.4e38): "-2e39"`, // quoted
        `big.csv line 5: column b is past float32's range (±3.4e38): " 1e400 "`, // past a double's range too
      ]);
      expect(Array.from(table.x)).toEqual([
        1,
        2,
        Math.fround(3.4028235e38),
        Math.fround(-3.4e38),
        0,
        Math.fround((2 ** 53 - 1) * 1e22), // the largest the fast path reads
      ]);
      expect(table.x.every(Number.isFinite)).toBe(true);
    }
  });

  test("line numbers count the line breaks inside quoted fields, across chunks", async () => {
    await using dir = tempDir();
    // Past the 64 rows that decide which columns are numeric.
    const lines = [
      "note,hr,label",
      '"one\nline two\nline three",1,a',
      ...Array.from({ length: 80 }, (_, i) => `n${i},${i},b`),
      'x,"oops",c',
    ];
    const file = dir.write("m.csv", `${lines.join("\n")}\n`);
    for (const chunkBytes of smallChunks) {
      const error = await errorOf(readCsvTable([file], fail, { chunkBytes }));
      expect(error.details).toMatchObject({ line: 85, column: "hr", columnNumber: 2 });
    }
  });

  test("malformed quotes are errors naming the line and column", async () => {
    await using dir = tempDir();
    const inside = await errorOf(readCsvTable([dir.write("a.csv", 'hr,label\n1,a\n2,b"c\n')], fail));
    expect(inside.message).toEndWith(
      "a.csv line 3, column 2: a quote inside an unquoted field (quote the whole field, and double the quotes inside " +
        "it)",
    );
    expect(inside.details).toMatchObject({ line: 3, columnNumber: 2 });
    const after = await errorOf(readCsvTable([dir.write("b.csv", 'hr,label\n"1"2,a\n')], fail));
    expect(after.message).toEndWith("b.csv line 2, column 1: text after the closing quote of a field");
    const open = await errorOf(readCsvTable([dir.write("c.csv", 'hr,label\n1,a\n2,"b\n3,c\n')], fail));
    expect(open.message).toEndWith("c.csv line 3, column 2: a quoted field is not closed before the end of the file");
  });

  test("several files share the first file's columns, in any order, and each row knows its file", async () => {
    await using dir = tempDir();
    const first = dir.write("1.csv", "hr,name,speed,label\n1,x,2,a\n3,y,4,b\n");
    const second = dir.write("2.csv", "speed,label,hr\n6,c,5\n");
    const third = dir.write("3.csv", "hr,speed,label\n");
    const table = await readCsvTable([first, second, third], fail);
    expect(table.featureNames).toEqual(["hr", "speed"]);
    expect(Array.from(table.x)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(table.labels).toEqual(["a", "b", "c"]);
    expect(Array.from(table.fileOfRow)).toEqual([0, 0, 1]);
    const missing = await errorOf(readCsvTable([first, dir.write("4.csv", "hr,label\n1,a\n")], fail));
    expect(missing.message).toEndWith('4.csv line 1: no column "speed" (the first file has it)');
  });

  test("a column the read uses, named twice in the header, is an error naming file, line 1 and column", async () => {
    await using dir = tempDir();
    // Before, the second "a" read the first one's cells: the model trained on one column twice.
    const file = dir.write("dup.csv", "a, a ,label\n1,2,x\n3,4,y\n");
    for (const choice of [fail, skip, { ...fail, features: ["a"] }, { ...fail, label: "a", features: [] }]) {
      const error = await errorOf(readCsvTable([file], { ...choice, displayRoot: dir.path }));
      expect(error.message).toBe('dup.csv line 1: column "a" is in the header twice (columns 1 and 2)');
      expect(error.details).toEqual({ file, line: 1, column: "a", columnNumber: 2 });
    }
    const label = await errorOf(readCsvTable([dir.write("l.csv", "label,hr,label\n1,2,x\n")], fail));
    expect(label.details).toMatchObject({ line: 1, column: "label", columnNumber: 3 });
    // A later file is checked too; a twice-named column the read leaves out is no one's concern.
    const first = dir.write("1.csv", "a,b,label\n1,2,x\n");
    const later = await errorOf(readCsvTable([first, dir.write("2.csv", "b,a,label,b\n1,2,x,3\n")], fail));
    expect(later.details).toMatchObject({ line: 1, column: "b", columnNumber: 4 });
    const unused = dir.write("u.csv", "note,hr,note,label\nx,1,y,a\n");
    expect(Array.from((await readCsvTable([unused], { ...fail, features: ["hr"] })).x)).toEqual([1]);
  });

  test("a record longer than the chunk grows the buffer and reads whole", async () => {
    await using dir = tempDir();
    const long = "word, ".repeat(2000);
    const file = dir.write("long.csv", `note,hr,label\n"${long}",1,a\nshort,2,b\n`);
    const table = await readCsvTable([file], { ...fail, keep: ["note"] }, { chunkBytes: 64 });
    expect(table.kept.note).toEqual([long, "short"]);
    expect(Array.from(table.x)).toEqual([1, 2]);
    expect(table.readStats.bufferBytes).toBeGreaterThan(long.length);
  });
});

describe("the header alone", () => {
  test("is read from the first chunk, BOM and quotes handled as in the table", async () => {
    await using dir = tempDir();
    const file = dir.write("h.csv", `\uFEFF"time, UTC", hr ,label\r\n${"t,1,a\r\n".repeat(50_000)}`);
    expect(await readCsvHeader(file)).toEqual(["time, UTC", "hr", "label"]);
    const empty = await errorOf(readCsvHeader(dir.write("e.csv", "\n\n")));
    expect(empty.message).toEndWith("e.csv is empty: no header row");
  });
});

describe("memory while reading", () => {
  // The bound is proved by what the reader allocates, not by timing or RSS: one read buffer of the chunk size,
  // whatever the file's size, and one float buffer, never copied, reserved within 1.5× the final table (only
  // the pages written become resident). A 1 GB file holds the same buffer.
  test("a file read in small chunks holds one chunk and the table, and gives the same table", async () => {
    await using dir = tempDir();
    const width = 8;
    const rows = Array.from({ length: 20_000 }, (_, r) =>
      [
        `2026-01-05T09:${r}`,
        ...Array.from({ length: width }, (_, c) => ((r * 31 + c * 17) % 1000) / 8),
        r % 5 ? "walk" : "run",
      ].join(","),
    );
    const file = dir.write(
      "big.csv",
      `${["time", ...Array.from({ length: width }, (_, c) => `f${c}`), "label"].join(",")}\n${rows.join("\n")}\n`,
    );
    const whole = await readCsvTable([file], fail);
    const chunked = await readCsvTable([file], fail, { chunkBytes: 4096 });
    expect(plain(chunked)).toEqual(plain(whole));
    expect(chunked.readStats).toEqual({ bufferBytes: 4096, tableCopies: 0 });
    expect(chunked.x.length).toBe(20_000 * width);
    expect(chunked.x.buffer.byteLength).toBeLessThanOrEqual(chunked.x.byteLength * 1.5 + 1024 * width * 4);
  });

  test("a kept text column costs about its text, not a string node per character", async () => {
    // JavaScriptCore counts each string's parts in its heap: a cell built one character at a time is a rope
    // of one node per character, held until read. Measured on the heap, after a full collection.
    await using dir = tempDir();
    const rows = Array.from(
      { length: 50_000 },
      (_, r) => `2026-01-05T09:${String(r % 60).padStart(2, "0")}:00.000Z,${r % 7},run`,
    );
    const file = dir.write("times.csv", `time,a,label\n${rows.join("\n")}\n`);
    Bun.gc(true);
    const before = heapStats().heapSize;
    const table = await readCsvTable([file], { ...fail, keep: ["time"] });
    Bun.gc(true);
    const grown = heapStats().heapSize - before;
    expect(table.kept.time!.length).toBe(50_000);
    expect(table.kept.time![59]).toBe("2026-01-05T09:59:00.000Z");
    // 50k strings of 24 characters with their headers and the array: a few MB; a rope per cell: over 50 MB.
    expect(grown).toBeLessThan(16 * 1024 * 1024);
  });

  test("rows much shorter than the first ones make the table grow, with the same result", async () => {
    await using dir = tempDir();
    const long = Array.from({ length: 100 }, (_, r) => `${"1234567.5,".repeat(3)}${r},long-row-label-text`);
    const short = Array.from({ length: 30_000 }, (_, r) => `1,2,3,${r % 9},s`);
    const file = dir.write("uneven.csv", `a,b,c,d,label\n${[...long, ...short].join("\n")}\n`);
    const table = await readCsvTable([file], fail, { chunkBytes: 4096 });
    expect(table.readStats.tableCopies).toBeGreaterThan(0);
    expect(table.labels.length).toBe(30_100);
    expect(Array.from(table.x.subarray(0, 4))).toEqual([1234567.5, 1234567.5, 1234567.5, 0]);
    expect(Array.from(table.x.subarray(-4))).toEqual([1, 2, 3, 29_999 % 9]);
  });
});
