/**
 * CSV ingest benchmark, run by hand: `bun scripts/bench/ingest.ts [--quick] [--repeats N] [--udsv PATH]`.
 * Reads the 200k-row athletes file (and, without --quick, a 2M-row one) from ../shared/tools/make_athletes.py
 * with edgetrain's reader, with pandas.read_csv and numpy.loadtxt (Debian's python3-pandas and python3-numpy)
 * and with csv-parse (the reader before the byte parser), each in a fresh process, and prints a Markdown
 * table for docs/performance.md. --udsv PATH adds uDSV, loaded from PATH (its .mjs), which edgetrain does
 * not depend on. Time is the read call alone; peak RSS is the process's high-water mark.
 */
import { createReadStream, existsSync, mkdirSync, statSync } from "node:fs";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { parse } from "csv-parse";
import { readCsvTable } from "../../runtime/data/csv-table.ts";

const root = resolve(import.meta.dir, "../..");
const shared = resolve(root, "../shared");
const python = "/usr/bin/python3";
const work = "/tmp/edgetrain-bench";
const argv = Bun.argv;
const flag = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);

interface Reading {
  seconds: number;
  rows: number;
  peakRssMb: number;
  /** RSS just before the read, so that the growth is the reader's own. */
  startRssMb: number;
  /** edgetrain's table: the float32 features and a reference per label. */
  tableMb?: number;
}

const highWaterMb = async () =>
  Number(/VmHWM:\s+(\d+)/.exec(await Bun.file("/proc/self/status").text())?.[1] ?? 0) / 1024;

// Child mode: one read in this fresh process, reported as JSON on stdout.
const readerName = flag("--reader");
if (readerName) {
  const file = flag("--file")!;
  const startRssMb = process.memoryUsage.rss() / 1048576;
  const started = performance.now();
  const { rows, tableMb } =
    readerName === "edgetrain"
      ? await readEdgetrain(file)
      : {
          rows: readerName === "csv-parse" ? await readCsvParse(file) : await readUdsv(file, flag("--udsv")!),
          tableMb: undefined,
        };
  const seconds = (performance.now() - started) / 1000;
  console.log(JSON.stringify({ seconds, rows, peakRssMb: await highWaterMb(), startRssMb, tableMb } satisfies Reading));
  process.exit(0);
}

async function readEdgetrain(file: string): Promise<{ rows: number; tableMb: number }> {
  const table = await readCsvTable([file], { label: "label", onBadCell: "fail" });
  return { rows: table.labels.length, tableMb: (table.x.byteLength + table.labels.length * 8) / 1048576 };
}

/** The reader before this change: csv-parse records of strings, `Number()` per cell, float32 rows. */
async function readCsvParse(file: string): Promise<number> {
  let x = new Float32Array(1 << 16);
  let length = 0;
  const labels: string[] = [];
  let numeric: number[] | undefined;
  let labelIndex = -1;
  for await (const record of createReadStream(file).pipe(
    parse({ relax_column_count: true, skip_empty_lines: true, bom: true }),
  ) as AsyncIterable<string[]>) {
    if (!numeric) {
      numeric = record.flatMap((name, i) => (name === "timestamp" || name === "label" ? [] : [i]));
      labelIndex = record.indexOf("label");
      continue;
    }
    if (length + numeric.length > x.length) {
      const bigger = new Float32Array(x.length * 2);
      bigger.set(x);
      x = bigger;
    }
    for (const i of numeric) x[length++] = Number(record[i]);
    labels.push(record[labelIndex]!.trim());
  }
  return labels.length;
}

// The part of uDSV's API used here, typed by hand since it is not installed with edgetrain.
interface UdsvSchema {
  cols: Array<{ name: string; type: string }>;
}
interface UdsvParser {
  typedArrs: unknown;
  chunk(text: string, parse: unknown, onRow: (row: unknown[]) => void): void;
  end(): unknown;
}
interface UdsvModule {
  inferSchema(text: string): UdsvSchema;
  initParser(schema: UdsvSchema): UdsvParser;
}

/** uDSV on text chunks, typed rows handed to a reducer that fills float32 rows. */
async function readUdsv(file: string, modulePath: string): Promise<number> {
  const { inferSchema, initParser } = (await import(modulePath)) as UdsvModule;
  const decoder = new TextDecoder();
  let parser: UdsvParser | undefined;
  let x = new Float32Array(1 << 16);
  let length = 0;
  const labels: string[] = [];
  let numeric: number[] = [];
  let labelIndex = -1;
  const onRow = (row: unknown[]) => {
    if (length + numeric.length > x.length) {
      const bigger = new Float32Array(x.length * 2);
      bigger.set(x);
      x = bigger;
    }
    for (const i of numeric) x[length++] = row[i] as number;
    labels.push(String(row[labelIndex]).trim());
  };
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    const text = decoder.decode(chunk as Uint8Array, { stream: true });
    if (!parser) {
      const schema = inferSchema(text);
      parser = initParser(schema);
      numeric = schema.cols.flatMap((col, i) => (col.type === "n" ? [i] : []));
      labelIndex = schema.cols.findIndex((col) => col.name === "label");
    }
    parser.chunk(text, parser.typedArrs, onRow);
  }
  parser?.end();
  return labels.length;
}

// Python peers: the same file, the read call timed, ru_maxrss (KiB on Linux) for the peak.
const PYTHON_PEER = `
import resource, sys, time
import numpy as np, pandas as pd
def rss():
    with open("/proc/self/status") as f:
        return int(next(l for l in f if l.startswith("VmRSS")).split()[1]) / 1024
kind, path = sys.argv[1], sys.argv[2]
start_rss = rss()
t = time.perf_counter()
if kind == "pandas":
    rows = len(pd.read_csv(path))
else:
    with open(path) as f:
        width = f.readline().count(",") + 1
    rows = len(np.loadtxt(path, delimiter=",", skiprows=1, usecols=range(1, width - 1), dtype=np.float32))
seconds = time.perf_counter() - t
peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print('{"seconds": %f, "rows": %d, "peakRssMb": %f, "startRssMb": %f}' % (seconds, rows, peak_rss, start_rss))
`;

function run(command: string[]): Reading {
  const proc = Bun.spawnSync(command, { stdout: "pipe", stderr: "pipe" });
  if (proc.exitCode !== 0) throw new Error(`${command.join(" ")} failed: ${proc.stderr.toString()}`);
  return JSON.parse(proc.stdout.toString().trim().split("\n").at(-1)!) as Reading;
}

function makeData(rows: number): string {
  const name = `single-${rows}`;
  const marker = join(work, `${name}.done`);
  if (!existsSync(marker)) {
    mkdirSync(work, { recursive: true });
    const proc = Bun.spawnSync([
      python,
      join(shared, "tools/make_athletes.py"),
      "--out",
      join(work, name),
      "--single",
      "train.csv",
      "--rows",
      String(rows),
    ]);
    if (proc.exitCode !== 0) throw new Error(`make_athletes.py failed: ${proc.stderr.toString()}`);
    Bun.write(marker, "");
  }
  return join(work, name, "train.csv");
}

const quick = argv.includes("--quick");
const repeats = Number(flag("--repeats") ?? 5);
const udsv = flag("--udsv");
const readers: Array<{ name: string; command: (file: string) => string[] }> = [
  {
    name: "edgetrain",
    command: (file) => [process.execPath, import.meta.path, "--reader", "edgetrain", "--file", file],
  },
  { name: "pandas.read_csv", command: (file) => [python, "-c", PYTHON_PEER, "pandas", file] },
  { name: "numpy.loadtxt (numeric columns only)", command: (file) => [python, "-c", PYTHON_PEER, "numpy", file] },
  {
    name: "csv-parse + Number() (the reader before)",
    command: (file) => [process.execPath, import.meta.path, "--reader", "csv-parse", "--file", file],
  },
  ...(udsv
    ? [
        {
          name: "uDSV typedArrs (not a dependency)",
          command: (file: string) => [
            process.execPath,
            import.meta.path,
            "--reader",
            "udsv",
            "--udsv",
            resolve(udsv),
            "--file",
            file,
          ],
        },
      ]
    : []),
];

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  return Number.isInteger(middle) ? (sorted[middle - 1]! + sorted[middle]!) / 2 : sorted[Math.floor(middle)]!;
};
const lines: string[] = [];
for (const rowCount of quick ? [200_000] : [200_000, 2_000_000]) {
  const file = makeData(rowCount);
  const megabytes = statSync(file).size / 1e6;
  await Bun.file(file).arrayBuffer(); // the page cache holds the file for every reader alike
  const results = new Map<string, Reading[]>(readers.map((reader) => [reader.name, []]));
  // The slow csv-parse path runs fewer times on the big file; the spread is in the table.
  for (let r = 0; r < repeats; r++) {
    for (const reader of readers) {
      if (rowCount > 200_000 && reader.name.startsWith("csv-parse") && r >= 2) continue;
      const reading = run(reader.command(file));
      results.get(reader.name)!.push(reading);
      console.error(
        `${rowCount} rows, ${reader.name}: ${reading.seconds.toFixed(3)} s, peak RSS ${reading.peakRssMb.toFixed(0)} ` +
          `MB`,
      );
    }
  }
  const pandas = median(results.get("pandas.read_csv")!.map((r) => r.seconds));
  const numpy = median(results.get(readers[2]!.name)!.map((r) => r.seconds));
  for (const [name, readings] of results) {
    const seconds = readings.map((r) => r.seconds);
    const mid = median(seconds);
    const peak = median(readings.map((r) => r.peakRssMb));
    const growth = median(readings.map((r) => r.peakRssMb - r.startRssMb));
    const table = readings[0]!.tableMb === undefined ? "" : `; table ${readings[0]!.tableMb.toFixed(0)} MB`;
    lines.push(
      `| ${rowCount.toLocaleString("en")} rows (${megabytes.toFixed(1)} MB) | ${name} | ${mid.toFixed(3)} s ` +
        `(${Math.min(...seconds).toFixed(3)}–${Math.max(...seconds).toFixed(3)}, ${readings.length} runs) | ` +
        `${(megabytes / mid).toFixed(0)} | ${peak.toFixed(0)} MB (+${growth.toFixed(0)} MB${table}) | ` +
        `${(mid / pandas).toFixed(2)}× | ${(mid / numpy).toFixed(2)}× |`,
    );
  }
}

const machine = `${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores`;
console.log(
  `\nCommand: bun scripts/bench/ingest.ts${argv.slice(2).length ? ` ${argv.slice(2).join(" ")}` : ""} · Machine: ` +
    `${machine} · Date: ${new Date().toISOString().slice(0, 10)}\n`,
);
console.log(
  "| File | Reader | Read time, median (min–max) | MB/s | Peak RSS (growth during the read) | vs pandas | vs numpy " +
    "|\n| --- | --- | --- | --- | --- | --- | --- |",
);
for (const line of lines) console.log(line);
