import { expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ExitCode } from "../../runtime/errors.ts";
import { startDaemonProcess, tempDir, waitUntil } from "../helpers.ts";

/** A trainer that reports without pause: each report rewrites its status file in the run's folder. */
const CHATTY_TRAINER = `while :; do echo '{"event":"heartbeat","step":1}'; done\n`;

test("a home deleted under frequent writes is said to be gone, never a full disk", async () => {
  await using dir = tempDir();
  const home = join(dir.path, "home");
  const script = dir.write("train.sh", CHATTY_TRAINER);
  for (const key of ["k1", "k2"]) dir.write(`home/data/parts/${key}.csv`, "x,y\n1,2\n");
  const profile = dir.write(
    "profile.yaml",
    `paths:\n  home: ${home}\ngovernor:\n  max_concurrent_runs: 1\njobs:\n  chatty:\n    strategy: command\n` +
      `    data: { source: rows, path: parts, key_from: file }\n` +
      `    options: { command: [/bin/sh, ${script}], grace_period: 200ms }\n`,
  );
  const { proc, url } = await startDaemonProcess(dir.path, ["--home", home, "--headless", "--profile", profile]);
  try {
    const token = readFileSync(join(home, "api.token"), "utf8").trim();
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    // Past the governor: a busy test machine would only defer the runs.
    const body = JSON.stringify({ force: true });
    expect((await fetch(`${url}/v1/jobs/chatty/run`, { method: "POST", headers, body })).status).toBe(202);
    // The trainer's reports are being written: its status file has its first heartbeat.
    const runs = join(home, "runs");
    const reported = (run: string) => {
      const file = join(runs, run, "worker-0/status.json");
      return existsSync(file) && readFileSync(file, "utf8").includes('"step"');
    };
    await waitUntil(() => existsSync(runs) && readdirSync(runs).some(reported), 20_000);
    rmSync(home, { recursive: true, force: true });
    expect(await proc.exited).toBe(ExitCode.homeLost);
    const stderr = await new Response(proc.stderr).text();
    const said = stderr.split("\n").filter((line) => line.includes("was deleted or made unwritable under the running"));
    expect(said).toHaveLength(1);
    // A trainer's status write failing in the deleted run folder is the home's loss, not the disk's space.
    expect(stderr).not.toContain(`the disk of the home ${home} is full`);
    // Nor does the failed run's error quote source code that mentions a full disk.
    expect(stderr).not.toContain("no space left on device");
  } finally {
    proc.kill("SIGKILL");
  }
}, 60_000);
