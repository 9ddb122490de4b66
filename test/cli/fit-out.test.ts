import { describe, expect, test } from "bun:test";
import { readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { runCli, tempDir } from "../helpers.ts";

const csv = `a,b,label\n${Array.from({ length: 40 }, (_, i) => `${i},${i % 7},${i % 2}`).join("\n")}\n`;

describe("edgetrain fit never writes its model over the data it reads", () => {
  test("--out naming a --data or --test file, directly, by .. or by symlink, is a usage error", async () => {
    await using dir = tempDir();
    const data = dir.write("v.csv", csv);
    const held = dir.write("t.csv", csv);
    symlinkSync(data, join(dir.path, "link.csv"));
    const fit = (out: string) =>
      runCli(["fit", "--strategy", "random-forest", "--data", "v.csv", "--test", "t.csv", "--out", out], {
        home: dir.path,
        cwd: dir.path,
      });
    const cases = [
      ["v.csv", data],
      ["sub/../v.csv", data],
      ["link.csv", data],
      ["t.csv", held],
    ] as const;
    for (const [out, input] of cases) {
      const refused = await fit(out);
      expect({ out, code: refused.code }).toEqual({ out, code: 2 });
      expect(refused.stderr).toContain(`is the input ${input}: the model would overwrite it`);
    }
    expect(readFileSync(data, "utf8")).toBe(csv);
    expect(readFileSync(held, "utf8")).toBe(csv);
    const written = await fit("model.onnx");
    expect(written.code).toBe(0);
    expect(written.stdout).toContain(`wrote ${join(dir.path, "model.onnx")}`);
  }, 60_000);
});
