import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { Glob } from "bun";
import { repoRoot } from "../helpers.ts";

/** The README and docs/: every relative link must reach a file, and every #anchor one of its headings. */
const pages = ["README.md", ...[...new Glob("docs/*.md").scanSync(repoRoot)].sort()];

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

function anchorsIn(file: string): Set<string> {
  const text = readFileSync(file, "utf8");
  const headings = text.split("\n").filter((line) => /^#{1,6} /.test(line));
  return new Set(headings.map((line) => anchorOf(line.replace(/^#+ /, ""))));
}

describe("documentation links", () => {
  for (const page of pages) {
    test(`${page}: relative links point to files and headings that exist`, async () => {
      const text = await Bun.file(join(repoRoot, page)).text();
      const broken: string[] = [];
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target!)) continue; // http:, https:, mailto:
        const [path, anchor] = target!.split("#") as [string, string | undefined];
        const file = path === "" ? join(repoRoot, page) : join(repoRoot, dirname(page), decodeURIComponent(path));
        if (!existsSync(file)) broken.push(`${target} (no ${relative(repoRoot, file)})`);
        else if (anchor && file.endsWith(".md") && !anchorsIn(file).has(anchor))
          broken.push(`${target} (no heading #${anchor})`);
      }
      expect(broken).toEqual([]);
    });
  }

  test("the README stays a five-minute read: at most 300 lines", async () => {
    const lines = (await Bun.file(join(repoRoot, "README.md")).text()).trimEnd().split("\n").length;
    expect(lines).toBeLessThanOrEqual(300);
  });
});
