import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { processGroupMembers } from "../../runtime/os/process-identity.ts";
import { bun, cli, processState, runCli, tempDir } from "../helpers.ts";

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error("timed out");
    await Bun.sleep(50);
  }
}

test("train queues in the running daemon; status, pause, resume and cancel act on the run from the CLI", async () => {
  await using dir = tempDir();
  const home = join(dir.path, "home");
  // Every heartbeat names the pid: the run record keeps only the latest one, written at most every so often.
  const trainer = `while true; do echo "{\\"event\\":\\"heartbeat\\",\\"pid\\":$$}"; sleep 0.1; done`;
  dir.write(
    "home/profile.yaml",
    `paths:\n  home: ${home}\ngovernor:\n  sample_interval: 200ms\n  max_cpu_before: 100\n  max_memory_before: 100\n ` +
      ` pause_cpu: 100\n  pause_memory: 100\njobs:\n  gpu:\n    strategy: command\n    options:\n      command: ` +
      `${JSON.stringify(trainer)}\n      grace_period: 300ms\n    triggers: [{ type: manual }]\n`,
  );
  const daemon = Bun.spawn([bun, cli, "run", "--home", home, "--port", "0", "--headless"], {
    env: { PATH: process.env.PATH, HOME: dir.path },
    stdout: "pipe",
    stderr: "pipe",
  });
  const cliIn = (...args: string[]) => runCli([...args, "--home", home], { home: dir.path });
  try {
    await until(() => Bun.file(join(home, "daemon.json")).exists());
    const queued = await cliIn("train", "gpu");
    expect(queued.stdout).toContain("queued gpu in the daemon");
    const run = await until(async () => {
      const runs = JSON.parse((await cliIn("runs", "--json")).stdout) as Array<{ id: string; status: string }>;
      return runs.find((r) => r.status === "running");
    });
    const details = await until(async () => {
      const response = await fetch(
        `${JSON.parse(readFileSync(join(home, "daemon.json"), "utf8")).url}/v1/runs/${run.id}`,
      );
      const body = (await response.json()) as { details: { last_heartbeat?: { pid?: number } } };
      return body.details.last_heartbeat?.pid ? body.details.last_heartbeat : undefined;
    });
    const pid = details.pid!;
    const status = await cliIn("status");
    expect(status.stdout).toContain("governor: admitting runs");
    expect(status.stdout).toContain(`${run.id}  gpu  running`);

    // Resuming a run nobody paused says so, with the conflict's exit code, and leaves the run as it was.
    const notPaused = await cliIn("resume", run.id);
    expect(notPaused).toMatchObject({ code: 1, stdout: "" });
    expect(notPaused.stderr).toContain(`run ${run.id} is not paused`);
    expect((await cliIn("pause", run.id)).stdout).toBe(`paused run ${run.id}\n`);
    await until(() => processState(pid) === "T");
    expect((await cliIn("resume", run.id)).code).toBe(0);
    await until(() => processState(pid) !== "T");
    expect((await cliIn("cancel", run.id)).code).toBe(0);
    const ended = await until(async () =>
      (JSON.parse((await cliIn("runs", "--json")).stdout) as Array<{ id: string; status: string; error: string }>).find(
        (r) => r.id === run.id && r.status !== "running",
      ),
    );
    expect(ended.status).toBe("cancelled");
    expect(processGroupMembers(pid)).toEqual([]);
    const again = await cliIn("cancel", run.id);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`run ${run.id} is not in progress`);
  } finally {
    daemon.kill("SIGTERM");
    await daemon.exited;
  }
  const gone = await runCli(["status", "--home", home], { home: dir.path });
  expect(gone.code).toBe(1);
  expect(gone.stderr).toContain(`no daemon runs on ${home}`);
}, 60_000);
