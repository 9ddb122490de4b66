import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { readEnvironment, type Environment } from "../runtime/environment.ts";

export const repoRoot = resolve(import.meta.dir, "..");
export const bun = process.execPath;
export const cli = join(repoRoot, "runtime/cli/main.ts");

export interface TempDir extends AsyncDisposable {
  path: string;
  write(relative: string, text: string): string;
}

/** A temporary folder removed at the end of the `await using` scope. */
export function tempDir(prefix = "edgetrain-test-"): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    write(relative, text) {
      const file = join(path, relative);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text);
      return file;
    },
    async [Symbol.asyncDispose]() {
      rmSync(path, { recursive: true, force: true });
    },
  };
}

export function testEnvironment(home: string, variables: Record<string, string> = {}): Environment {
  return readEnvironment({ HOME: home, PATH: process.env.PATH, ...variables });
}

/** Runs the CLI from source as a real child process. */
export async function runCli(args: string[], options: { home: string; env?: Record<string, string>; cwd?: string }) {
  const proc = Bun.spawn([bun, cli, ...args], {
    cwd: options.cwd ?? options.home,
    env: { PATH: process.env.PATH, HOME: options.home, NO_COLOR: "1", ...options.env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}
