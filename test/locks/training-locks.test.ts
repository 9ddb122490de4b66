import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { processStartTime } from "../../runtime/os/process-identity.ts";
import { startDaemonProcess, tempDir } from "../helpers.ts";

const lockOf = (pid: number, startTime: number | undefined) =>
  `${JSON.stringify({
    pid,
    start_time: startTime,
    host: hostname(),
    command: "edgetrain train activity",
    created: "2025-01-01T00:00:00.000Z",
  })}\n`;

test("the daemon removes at start the training locks of runs whose process is gone, and keeps those held", async () => {
  await using dir = tempDir();
  const killed = Bun.spawn(["sleep", "60"]);
  const killedStart = processStartTime(killed.pid);
  killed.kill("SIGKILL");
  await killed.exited;
  const live = Bun.spawn(["sleep", "60"]);
  try {
    dir.write("locks/training-killed.lock", lockOf(killed.pid, killedStart));
    // A pid now running another program: its start time differs.
    dir.write("locks/training-reused.lock", lockOf(process.pid, processStartTime(process.pid)! + 1));
    dir.write("locks/training-unreadable.lock", "");
    dir.write("locks/training-live.lock", lockOf(live.pid, processStartTime(live.pid)));
    // Predictor locks belong to `edgetrain hold`, which cleans its own.
    dir.write("locks/predictor-camera.lock", lockOf(killed.pid, killedStart));
    const daemon = await startDaemonProcess(dir.path, ["--home", dir.path, "--headless"]);
    try {
      expect(readdirSync(join(dir.path, "locks")).sort()).toEqual(["predictor-camera.lock", "training-live.lock"]);
      expect(readFileSync(join(dir.path, "logs/edgetrain.log"), "utf8")).toContain(
        "removed the training locks of runs that are gone",
      );
    } finally {
      daemon.proc.kill("SIGTERM");
      await daemon.proc.exited;
    }
  } finally {
    live.kill("SIGKILL");
    await live.exited;
  }
}, 30_000);
