import { describe, expect, test } from "bun:test";
import { dirname, join, relative, resolve } from "node:path";
import { Glob } from "bun";
import { repoRoot } from "../helpers.ts";

const CONTRACT = "runtime/api/contract.ts";

interface ImportOf {
  specifier: string;
  typeOnly: boolean;
  text: string;
}

/** Every module a source names: imports and re-exports (multi-line too), bare imports, `import()` and `require()`. */
function importsOf(source: string): ImportOf[] {
  const found: ImportOf[] = [];
  for (const match of source.matchAll(/^\s*(?:import|export)\s+(type\s+)?(?:[^;"']*?\s+from\s+)?["']([^"']+)["']/gm)) {
    found.push({ specifier: match[2]!, typeOnly: match[1] !== undefined, text: match[0].trim() });
  }
  for (const match of source.matchAll(/\b(?:import|require)\(\s*["']([^"']+)["']\s*\)/g))
    found.push({ specifier: match[1]!, typeOnly: false, text: match[0] });
  return found;
}

/**
 * Why one import of a tui/ file breaks the rule, or undefined: tui/ may import packages, its own files,
 * and the API contract's types (`import type`: `import { type X }` still loads the module at run time).
 */
function breach(file: string, { specifier, typeOnly }: ImportOf): string | undefined {
  if (!specifier.startsWith(".") && !specifier.startsWith("/")) return undefined;
  const target = relative(repoRoot, resolve(repoRoot, dirname(file), specifier));
  if (target.startsWith("tui/")) return undefined;
  if (target === CONTRACT) return typeOnly ? undefined : "imports the contract for more than its types";
  return `imports ${target}; tui/ may import only ${CONTRACT}`;
}

function breaches(file: string, source: string): string[] {
  return importsOf(source).flatMap((found) => {
    const why = breach(file, found);
    return why ? [`${file}: ${why} (${found.text.replace(/\s+/g, " ")})`] : [];
  });
}

describe("tui/ is a client of the API", () => {
  test("it imports only the API contract's types from the runtime, and packages", async () => {
    const offenders: string[] = [];
    let files = 0;
    for await (const file of new Glob("tui/**/*.{ts,tsx}").scan(repoRoot)) {
      files++;
      offenders.push(...breaches(file, await Bun.file(join(repoRoot, file)).text()));
    }
    expect(files).toBeGreaterThan(10);
    expect(offenders).toEqual([]);
  });

  test("the rule catches every other way of reaching into the runtime", () => {
    const sources = [
      `import type { RunSummary } from "../../runtime/state/runs.ts";`,
      `import { type App } from "../../runtime/api/contract.ts";`,
      `import {\n  type DaemonView,\n} from "../../runtime/api/daemon-view.ts";`,
      `export type { LogLine } from "../../runtime/log/logger.ts";`,
      `export * from "../../runtime/api/contract.ts";`,
      `import "../../runtime/log/logger.ts";`,
      `const { runTui } = await import("../../runtime/cli/main.ts");`,
      `import { x } from "/work/elsewhere/runtime/errors.ts";`,
    ];
    expect(sources.map((source) => breaches("tui/screens/x.tsx", source).length)).toEqual(sources.map(() => 1));
    const allowed = [
      `import type { App, RunDetail } from "../../runtime/api/contract.ts";`,
      `import { treaty } from "@elysiajs/eden";`,
      `import { Box } from "ink";`,
      `import { useColor } from "../components/theme.tsx";`,
    ];
    expect(allowed.flatMap((source) => breaches("tui/screens/x.tsx", source))).toEqual([]);
  });

  test("the contract itself is types only, so importing it loads nothing", async () => {
    const source = await Bun.file(join(repoRoot, CONTRACT)).text();
    expect(importsOf(source).filter((found) => !found.typeOnly)).toEqual([]);
    expect(source.match(/^export\s+(?!type\s|interface\s)\S+/gm) ?? []).toEqual([]);
  });
});

/** Why one import of a runtime/ file outside runtime/cli reaches the CLI or the TUI, or undefined; types count too. */
function runtimeBreach(file: string, { specifier }: ImportOf): string | undefined {
  if (!specifier.startsWith(".") && !specifier.startsWith("/")) return undefined;
  const target = relative(repoRoot, resolve(repoRoot, dirname(file), specifier));
  return target.startsWith("runtime/cli/") || target.startsWith("tui/") ? `imports ${target}` : undefined;
}

describe("the runtime does not reach its clients", () => {
  test("nothing under runtime/ outside runtime/cli imports runtime/cli or tui/", async () => {
    const offenders: string[] = [];
    let files = 0;
    for await (const file of new Glob("runtime/**/*.{ts,tsx}").scan(repoRoot)) {
      if (file.startsWith("runtime/cli/")) continue;
      files++;
      const found = importsOf(await Bun.file(join(repoRoot, file)).text());
      offenders.push(
        ...found.flatMap((one) => (runtimeBreach(file, one) ? [`${file}: ${runtimeBreach(file, one)}`] : [])),
      );
    }
    expect(files).toBeGreaterThan(50);
    expect(offenders).toEqual([]);
    const caught = [
      runtimeBreach("runtime/daemon.ts", importsOf(`import { formatProblem } from "./cli/problems-text.ts";`)[0]!),
      runtimeBreach("runtime/api/x.ts", importsOf(`import type { Tab } from "../../tui/app.tsx";`)[0]!),
    ];
    expect(caught).toEqual(["imports runtime/cli/problems-text.ts", "imports tui/app.tsx"]);
  });
});
