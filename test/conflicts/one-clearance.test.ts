import { expect, test } from "bun:test";
import { join } from "node:path";
import { Glob } from "bun";
import { repoRoot } from "../helpers.ts";

const withoutComments = (source: string) => source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:])\/\/.*$/gm, "$1");

test("the conflict policy has one home: only runtime/conflicts/clearance.ts reads it or scans for a job", async () => {
  // Reading a policy setting as a property (`.on_unattended`) or by destructuring (`{ max_wait } =`).
  const setting = "on_unattended|on_conflict|ask_timeout|ask_default|max_wait";
  const reads = new RegExp(`\\.(${setting})\\b|\\{[^}=]*\\b(${setting})\\b[^}=]*\\}\\s*=|\\bscanForJob\\(`);
  const readers: string[] = [];
  for await (const file of new Glob("{runtime,plugins,tui}/**/*.{ts,tsx}").scan(repoRoot)) {
    if (file === "runtime/conflicts/clearance.ts") continue;
    const source = withoutComments(await Bun.file(join(repoRoot, file)).text());
    if (reads.test(source.replace(/export function scanForJob\(/, ""))) readers.push(file);
  }
  expect(readers).toEqual([]);
});
