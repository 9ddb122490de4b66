import { expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ExitCode } from "../../runtime/errors.ts";
import { startDaemonProcess, tempDir, waitUntil } from "../helpers.ts";

/**
 * A trainer in shell that heartbeats once, then trains for a minute in silence: a run still going when the home
 * goes, and one that writes nothing there itself before the daemon notices.
 */
const TRAINER = `echo '{"event":"heartbeat","step":1}'; sleep 60\n`;

test("a home deleted during a run: the stop writes nothing more there, and no stack reaches stderr", async () => {
  await using dir = tempDir();
  const home = join(dir.path, "home");
  const script = dir.write("train.sh", TRAINER);
  const profile = dir.write(
    "profile.yaml",
    `paths:\n  home: ${home}\njobs:\n  slow:\n    strategy: command\n    options: { command: [/bin/sh, ${script}] }\n`,
  );
  const { proc, url } = await startDaemonProcess(dir.path, ["--home", home, "--headless", "--profile", profile]);
  try {
    // Past the governor: a busy test machine would only defer the run.
    const FORCE = JSON.stringify({ force: true });
    const token = readFileSync(join(home, "api.token"), "utf8").trim();
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    expect((await fetch(`${url}/v1/jobs/slow/run`, { method: "POST", headers, body: FORCE })).status).toBe(202);
    const running = async () => ((await (await fetch(`${url}/v1/status`)).json()) as { running: number }).running;
    await waitUntil(async () => (await running()) === 1, 20_000);
    rmSync(home, { recursive: true, force: true });
    expect(await proc.exited).toBe(ExitCode.homeLost);
    const stderr = await new Response(proc.stderr).text();
    expect(stderr).toContain("was deleted or made unwritable under the running");
    expect(stderr).not.toContain("SQLiteError");
    expect(stderr).not.toContain("readonly database");
    expect(stderr).not.toMatch(/^\s+at /m);
  } finally {
    proc.kill("SIGKILL");
  }
}, 60_000);
