import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { messageOf } from "../errors.ts";
import type { PluginRegistry } from "./registry.ts";

const PLUGIN_FILE = /\.(ts|js|mjs)$/;
const IMPORT_TIME_LIMIT_MS = 10_000;

/**
 * Loads every `.ts`/`.js`/`.mjs` file directly in `dir` as a plugin. A file that throws, times out or
 * exports something else becomes a problem naming the file; the other plugins still load.
 */
export async function loadUserPlugins(dir: string, registry: PluginRegistry): Promise<void> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return;
  const files = readdirSync(dir)
    .filter((name) => PLUGIN_FILE.test(name) && !name.endsWith(".d.ts"))
    .sort();
  for (const name of files) {
    const file = join(dir, name);
    try {
      const module = await withTimeLimit(
        import(pathToFileURL(file).href),
        IMPORT_TIME_LIMIT_MS,
        `loading took more than ${IMPORT_TIME_LIMIT_MS / 1000} s`,
      );
      registry.register((module as { default?: unknown }).default, file);
    } catch (error) {
      registry.problems.push({
        file,
        ...errorPosition(error, file),
        path: "",
        message: `plugin failed to load: ${firstLine(messageOf(error))}`,
        severity: "error",
      });
    }
  }
}

function withTimeLimit<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}

/** Bun puts the line and column of a syntax error on the error or in its stack; use them when present. */
function errorPosition(error: unknown, file: string): { line: number; column: number } {
  const record = error as { line?: number; column?: number; stack?: string } | undefined;
  if (typeof record?.line === "number") return { line: record.line, column: record.column ?? 0 };
  const match = record?.stack ? new RegExp(`${escapeRegExp(file)}:(\\d+):(\\d+)`).exec(record.stack) : null;
  return match ? { line: Number(match[1]), column: Number(match[2]) } : { line: 0, column: 0 };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
