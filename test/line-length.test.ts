import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./helpers.ts";

const LIMIT = 120;
/** Issue 24: a runtime module past this has more than one concept in it. */
const RUNTIME_FILE_LINES = 300;

/** JSON that cannot keep the limit: a JSON string cannot be cut, and these hold long ones. */
const EXEMPT = new Map([
  ["profiles/schema.json", "generated from runtime/config/schema.ts, with each field's description on one line"],
  ["deploy/grafana/edgetrain.json", "a Grafana dashboard imported as is, its queries and descriptions each one string"],
]);

/** The code and JSON files of the repository, tracked or new (what .gitignore leaves out is not ours). */
function sourceFiles(): string[] {
  const listed = Bun.spawnSync(["git", "ls-files", "--cached", "--others", "--exclude-standard"], { cwd: repoRoot });
  if (listed.exitCode !== 0) throw new Error(`git ls-files failed: ${listed.stderr.toString()}`);
  return listed.stdout
    .toString()
    .split("\n")
    .filter((file) => /\.(ts|tsx|js|json|jsonc)$/.test(file) && !EXEMPT.has(file) && existsSync(join(repoRoot, file)));
}

describe("code style", () => {
  test(`no line of code or JSON is over ${LIMIT} characters (scripts/format-all.sh wraps most)`, () => {
    const files = sourceFiles();
    const long = files.flatMap((file) =>
      readFileSync(join(repoRoot, file), "utf8")
        .split("\n")
        .flatMap((line, index) => (line.length > LIMIT ? [`${file}:${index + 1} (${line.length} characters)`] : [])),
    );
    expect(files.length).toBeGreaterThan(300);
    expect(long).toEqual([]);
  });

  test(`no file in runtime/ is over ${RUNTIME_FILE_LINES} lines`, () => {
    const runtime = sourceFiles().filter((file) => file.startsWith("runtime/") && /\.tsx?$/.test(file));
    const lines = (file: string) => readFileSync(join(repoRoot, file), "utf8").replace(/\n$/, "").split("\n").length;
    const over = runtime.flatMap((file) =>
      lines(file) > RUNTIME_FILE_LINES ? [`${file} (${lines(file)} lines)`] : [],
    );
    expect(runtime.length).toBeGreaterThan(200);
    expect(over).toEqual([]);
  });

  test("each file let off the limit still exists", () => {
    expect([...EXEMPT.keys()].filter((file) => !existsSync(join(repoRoot, file)))).toEqual([]);
  });
});
