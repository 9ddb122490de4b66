import { expect, test } from "bun:test";
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { cli, tempDir } from "../helpers.ts";
import { HEADER, homeWithModels, rowsText } from "./fixture.ts";

const GIB = 1024 ** 3;
/** Peak RSS allowed to the scoring process: far below the file it reads, generous for Bun, ONNX Runtime, a batch. */
const PEAK_RSS_BOUND = 400 * 1024 ** 2;

/** Writes a header and a block of rows repeated until the file holds `bytes`; returns the rows written. */
function writeRepeated(file: string, header: string, block: string, bytes: number): number {
  const data = Buffer.from(block);
  const fd = openSync(file, "w");
  try {
    writeSync(fd, `${header}\n`);
    let written = 0;
    let blocks = 0;
    for (; written < bytes; blocks++) written += writeSync(fd, data);
    return blocks * (block.match(/\n/g)?.length ?? 0);
  } finally {
    closeSync(fd);
  }
}

async function countLines(file: string): Promise<number> {
  let lines = 0;
  for await (const chunk of Bun.file(file).stream())
    for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) lines++;
  return lines;
}

test("a 1 GB CSV is scored in a child process whose peak RSS stays far below the file's size", async () => {
  await using dir = tempDir();
  const home = await homeWithModels(
    dir,
    // Each row's id is copied into its prediction, as a join key would be.
    "  bulk:\n    score: predictions\n    model: activity\n    options: { columns: [id] }\n" +
      "    data: { source: rows, path: incoming, debounce: 0 }\n",
  );
  // A free-text column the model does not read, as exported files carry them: wide rows, a large file, quickly.
  const note = ",free text from the logger that nobody scores but every export carries along with the readings";
  const block = rowsText(10_000, 9, false).replaceAll("\n", `${note}\n`);
  mkdirSync(join(home, "data/incoming"));
  const rows = writeRepeated(join(home, "data/incoming/year.csv"), `${HEADER},note`, block, GIB);
  const child = Bun.spawn([process.execPath, cli, "train", "bulk", "--home", home, "--force", "--json"], {
    env: { PATH: process.env.PATH, HOME: home },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  const [run] =
    (JSON.parse(stdout || "{}") as { runs?: Array<{ status: string; metrics: Record<string, number> }> }).runs ?? [];
  expect({ run, stderr: run ? "" : stderr }).toMatchObject({
    run: { status: "succeeded", metrics: { rows, files: 1 } },
  });
  // The kernel's high-water mark of the child's resident memory (VmHWM), as wait4 reports it.
  const peak = child.resourceUsage()!.maxRSS;
  expect(peak).toBeLessThan(PEAK_RSS_BOUND);
  expect(await countLines(join(home, "data/incoming/year.predictions.csv"))).toBe(rows + 1);
}, 300_000);
