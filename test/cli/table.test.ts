import { describe, expect, test } from "bun:test";
import type { Output } from "../../runtime/cli/command.ts";
import { writeTable } from "../../runtime/cli/table.ts";

function output(columns?: number): Output & { lines: () => string[] } {
  let text = "";
  return {
    isTTY: columns !== undefined,
    columns,
    write: (chunk: string) => void (text += chunk),
    lines: () => text.trimEnd().split("\n"),
  };
}

const rows = [
  ["RUN", "JOB", "STATUS", "OUTCOME"],
  ["20260412-031500-a1b2c3", "activity", "succeeded", "accuracy 0.912, f1 0.887, precision 0.901, recall 0.874"],
  [
    "20260412-031800-d4e5f6",
    "activity",
    "failed",
    "data_invalid: session TR4 has a non-numeric cell in column hr at row 1200",
  ],
];

describe("tables", () => {
  test("into a pipe nothing is cut, whatever the width", () => {
    const out = output();
    writeTable(out, rows);
    expect(out.lines()[2]).toBe(
      "20260412-031800-d4e5f6  activity  failed     data_invalid: session TR4 has a non-numeric cell in column hr at " +
        "row 1200",
    );
  });

  test("on a terminal the table fits its width; the last column is cut first, with …", () => {
    const out = output(80);
    writeTable(out, rows);
    for (const line of out.lines()) expect(Bun.stringWidth(line)).toBeLessThanOrEqual(80);
    expect(out.lines()[0]).toBe("RUN                     JOB       STATUS     OUTCOME");
    expect(out.lines()[1]).toBe("20260412-031500-a1b2c3  activity  succeeded  accuracy 0.912, f1 0.887, precisio…");
    expect(out.lines()[1]!.length).toBe(80);
  });

  test("on a narrow terminal the others are cut too, never below their header; the first column never", () => {
    const out = output(50);
    writeTable(out, rows);
    const [header, first] = out.lines();
    expect(header).toBe("RUN                     JOB      STATUS    OUTCOME");
    expect(first).toBe("20260412-031500-a1b2c3  activi…  succeed…  accura…");
    for (const line of out.lines()) expect(Bun.stringWidth(line)).toBeLessThanOrEqual(50);
  });

  test("a table that fits is left alone on a terminal too", () => {
    const out = output(200);
    writeTable(out, rows);
    const piped = output();
    writeTable(piped, rows);
    expect(out.lines()).toEqual(piped.lines());
  });
});
