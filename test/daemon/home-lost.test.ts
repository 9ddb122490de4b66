import { expect, test } from "bun:test";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ExitCode } from "../../runtime/errors.ts";
import { startDaemonProcess, tempDir } from "../helpers.ts";

test("a home deleted under the running daemon: said once, exit 74, nothing made again there", async () => {
  await using dir = tempDir();
  const home = join(dir.path, ".edgetrain");
  const { proc, url } = await startDaemonProcess(dir.path, ["--headless"]);
  try {
    expect((await fetch(`${url}/health`)).status).toBe(200);
    rmSync(home, { recursive: true, force: true });
    // The daemon stops by itself; the test's own timeout bounds the wait.
    expect(await proc.exited).toBe(ExitCode.homeLost);
    const stderr = await new Response(proc.stderr).text();
    const said = stderr.split("\n").filter((line) => line.includes("was deleted or made unwritable under the running"));
    expect(said).toHaveLength(1);
    expect(said[0]).toContain(`the home ${home} `);
    expect(existsSync(home)).toBe(false);
  } finally {
    proc.kill("SIGKILL");
  }
}, 60_000);
