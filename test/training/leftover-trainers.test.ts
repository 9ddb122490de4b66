import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import commandStrategy from "../../plugins/strategies/command/index.ts";
import { diesWithEdgetrain, workingSetpriv } from "../../runtime/os/parent-death.ts";
import { bootId, processEntry, processGroupMembers, processTable } from "../../runtime/os/process-identity.ts";
import { registryOf } from "../../runtime/plugins/registry.ts";
import { openState, type StateDatabase } from "../../runtime/state/database.ts";
import { runProcesses, saveRunProcess } from "../../runtime/state/run-processes.ts";
import { recordRunProcess, stopLeftoverTrainers } from "../../runtime/training/leftover-trainers.ts";
import { RunRecorder } from "../../runtime/training/run-recorder.ts";
import { runStrategy } from "../../runtime/training/run-strategy.ts";
import {
  bun,
  cli,
  type LoggedLine,
  pathsIn,
  processState,
  recordingLogger,
  runCli,
  startDaemonProcess,
  type TempDir,
  tempDir,
  waitUntil,
} from "../helpers.ts";

/** The state database, closed at the end of the `using` scope. */
const disposable = (state: StateDatabase) => Object.assign(state, { [Symbol.dispose]: () => state.close() });

/**
 * A trainer in shell that starts a child in its process group, says both pids, heartbeats once and then trains in
 * silence: nothing it writes breaks its pipe once its edgetrain is gone.
 */
const trainer = (pids: string) => `sleep 300 &\necho "$$ $!" >> ${pids}\necho '{"event":"heartbeat","step":1}'\nwait\n`;

interface Trainer {
  pid: number;
  child: number;
}

function trainersIn(file: string): Trainer[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [pid, child] = line.split(" ").map(Number);
      return { pid: pid!, child: child! };
    });
}

/**
 * Live group leaders whose command line names `script`: the trainers of every run, old or new (a trainer's
 * fork on its way to exec `sleep` shows the same command line, but in its parent's group).
 */
function runningTrainers(script: string): number[] {
  const named = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes(script);
    } catch {
      return false;
    }
  };
  return [...processTable().values()]
    .filter(({ pid, group }) => pid === group && named(pid))
    .map(({ pid }) => pid)
    .sort((a, b) => a - b);
}

/** Whatever a test left running is its own to stop: each trainer's group, by the pids it wrote. */
function killGroups(trainers: Trainer[]): void {
  for (const { pid } of trainers) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // Gone already.
    }
  }
}

/** How many processes the home's state database holds for runs. */
function recordedProcesses(home: string): number {
  const file = join(home, "state/edgetrain.db");
  if (!existsSync(file)) return 0;
  using db = new Database(file, { readonly: true });
  return db.query<{ count: number }, []>("SELECT count(*) AS count FROM run_processes").get()!.count;
}

function profileIn(dir: TempDir, home: string, script: string): string {
  return dir.write(
    "profile.yaml",
    `paths:\n  home: ${home}\n` +
      // A busy test machine must not defer the run the restart queues again.
      "governor: { sample_interval: 100ms, max_cpu_before: 100, max_memory_before: 100, pause_cpu: 100, " +
      "pause_memory: 100 }\n" +
      `jobs:\n  trainers:\n    strategy: command\n` +
      `    options: { command: [/bin/sh, ${script}], workers: 3, ramp: all, heartbeat_timeout: 10m, ` +
      "grace_period: 200ms }\n  quick:\n    strategy: command\n    options: { command: exit 3 }\n",
  );
}

test("trainers and their children left by a SIGKILLed daemon are stopped at its next start", async () => {
  await using dir = tempDir();
  const home = join(dir.path, "home");
  const pids = join(dir.path, "pids");
  const script = dir.write("train.sh", trainer(pids));
  const args = ["--home", home, "--headless", "--profile", profileIn(dir, home, script)];
  let daemon = await startDaemonProcess(dir.path, args);
  try {
    const token = readFileSync(join(home, "api.token"), "utf8").trim();
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const body = JSON.stringify({ force: true });
    expect((await fetch(`${daemon.url}/v1/jobs/trainers/run`, { method: "POST", headers, body })).status).toBe(202);
    await waitUntil(() => trainersIn(pids).length === 3, 30_000);
    // Killed once the three are recorded, a moment after each starts: that moment is not what this tests.
    await waitUntil(() => recordedProcesses(home) === 3, 30_000);
    const old = trainersIn(pids);
    daemon.proc.kill("SIGKILL");
    await daemon.proc.exited;

    daemon = await startDaemonProcess(dir.path, args);
    // The interrupted run is run again: three new trainers.
    await waitUntil(() => trainersIn(pids).length === 6, 30_000);
    const fresh = trainersIn(pids).slice(3);
    for (const { pid, child } of old) {
      expect(processGroupMembers(pid)).toEqual([]);
      expect(["gone", "Z"]).toContain(processState(child));
    }
    expect(runningTrainers(script)).toEqual(fresh.map(({ pid }) => pid).sort((a, b) => a - b));
    const logged = readFileSync(join(home, "logs/edgetrain.log"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { msg: string; job?: string; pids?: number[] })
      .filter((line) => line.msg === "stopped the trainers an interrupted run left");
    expect(logged).toHaveLength(1);
    expect(logged[0]!.job).toBe("trainers");
    for (const { child } of old) expect(logged[0]!.pids).toContain(child);
  } finally {
    daemon.proc.kill("SIGTERM");
    await daemon.proc.exited;
    killGroups(trainersIn(pids));
  }
}, 120_000);

/** `edgetrain train` of the three-trainer job, in its own process so that a test can SIGKILL it. */
function startTrain(dir: TempDir) {
  const home = join(dir.path, "home");
  const pids = join(dir.path, "pids");
  const script = dir.write("train.sh", trainer(pids));
  const options = ["--home", home, "--profile", profileIn(dir, home, script), "--force"];
  const train = Bun.spawn([bun, cli, "train", "trainers", ...options], {
    env: { PATH: process.env.PATH, HOME: dir.path, NO_COLOR: "1" },
    stdout: "ignore",
    stderr: "ignore",
  });
  return { home, pids, script, options, train };
}

test("trainers left by a SIGKILLed `edgetrain train` are stopped by the next train", async () => {
  await using dir = tempDir();
  const { home, pids, script, options, train } = startTrain(dir);
  try {
    await waitUntil(() => trainersIn(pids).length === 3, 30_000);
    // Killed once the three are recorded, a moment after each starts: that moment is not what this tests.
    await waitUntil(() => recordedProcesses(home) === 3, 30_000);
    const old = trainersIn(pids);
    train.kill("SIGKILL");
    await train.exited;

    const next = await runCli(["train", "quick", ...options], { home: dir.path });
    expect(next.stderr).toContain("stopped the trainers an interrupted run left");
    expect(next.code).toBe(1);
    for (const { pid, child } of old) {
      expect(processGroupMembers(pid)).toEqual([]);
      expect(["gone", "Z"]).toContain(processState(child));
    }
    expect(runningTrainers(script)).toEqual([]);
  } finally {
    train.kill("SIGKILL");
    killGroups(trainersIn(pids));
  }
}, 120_000);

/** Whether util-linux's setpriv can set PR_SET_PDEATHSIG here; BusyBox's and older ones cannot. */
const setprivSetsDeathSignal = workingSetpriv() !== null;

test.skipIf(!setprivSetsDeathSignal)(
  "trainers die with the edgetrain that started them; their children wait for the next start",
  async () => {
    await using dir = tempDir();
    const { pids, script, train } = startTrain(dir);
    try {
      await waitUntil(() => trainersIn(pids).length === 3, 30_000);
      train.kill("SIGKILL");
      await train.exited;
      // Nothing of edgetrain runs now: the kernel killed the trainers themselves.
      await waitUntil(() => runningTrainers(script).length === 0, 10_000);
      for (const { pid, child } of trainersIn(pids)) expect(processGroupMembers(pid)).toEqual([child]);
    } finally {
      killGroups(trainersIn(pids));
    }
  },
  120_000,
);

test("a program that cannot be found is spawned as given, so that the spawn fails as it would", () => {
  const options = { cwd: "/", env: { PATH: "/usr/bin:/bin" } };
  expect(diesWithEdgetrain(["no-such-trainer", "x"], options)).toEqual(["no-such-trainer", "x"]);
  const wrapped = diesWithEdgetrain(["sh", "-c", "exit 0"], options);
  expect(wrapped.slice(-3)).toEqual(["sh", "-c", "exit 0"]);
  expect(wrapped.length > 3).toBe(setprivSetsDeathSignal);
});

describe("leftover trainers at start", () => {
  /** A process group of its own: `sh -c script` in `cwd`, as a strategy starts a trainer. */
  function group(script: string, cwd: string) {
    return Bun.spawn(["/bin/sh", "-c", script], { cwd, detached: true, stdout: "pipe", stderr: "ignore" });
  }

  /** Records the trainer `pid` (leading its group, started at `started`) for `run`, by an edgetrain now gone. */
  function recordOfGoneOwner(state: StateDatabase, run: string, pid: number, started: number): void {
    const owner = Bun.spawnSync(["/bin/sh", "-c", "cat /proc/self/stat"]).stdout.toString();
    const fields = owner.slice(owner.lastIndexOf(")") + 2).split(" ");
    const gone = { owner_pid: Number(owner.split(" ")[0]), owner_started: Number(fields[19]) };
    saveRunProcess(state, { run, worker: "0", pid, pgid: pid, started, boot_id: bootId()!, ...gone });
  }

  function runIn(state: StateDatabase, dir: string): RunRecorder {
    const id = RunRecorder.newId();
    const runDir = join(dir, "runs", id);
    mkdirSync(runDir, { recursive: true });
    return new RunRecorder(state, { id, job: "trainers", strategy: "command", trigger: "manual", runDir });
  }

  test("stops a group whose leader is gone only when it works in the run's folder", async () => {
    await using dir = tempDir();
    using state = disposable(openState(join(dir.path, "state")));
    const ours = runIn(state, dir.path);
    const other = runIn(state, dir.path);
    // The leader exits at once, leaving its child in the group: a trainer killed by its parent's death.
    const left = group("sleep 300 >/dev/null & echo $!", join(dir.path, "runs", ours.id));
    const stranger = group("sleep 300 >/dev/null & echo $!", dir.path);
    const [child, strangerChild] = (await Promise.all([left.stdout.text(), stranger.stdout.text()])).map(Number) as [
      number,
      number,
    ];
    await Promise.all([left.exited, stranger.exited]);
    // The leaders' start times are lost with them; their children started a moment later.
    recordOfGoneOwner(state, ours.id, left.pid, processEntry(child)!.started);
    recordOfGoneOwner(state, other.id, stranger.pid, processEntry(strangerChild)!.started);
    try {
      const lines: LoggedLine[] = [];
      await stopLeftoverTrainers(state, recordingLogger(lines), 5000);
      expect(processGroupMembers(left.pid)).toEqual([]);
      // Nothing tells the other group from one that reused a gone trainer's pid: it is left alone.
      expect(processGroupMembers(stranger.pid)).toEqual([strangerChild]);
      expect(lines.map((line) => [line.message, line.fields?.run, line.fields?.pids])).toEqual([
        ["stopped the trainers an interrupted run left", ours.id, [child]],
      ]);
      expect(runProcesses(state.db)).toEqual([]);
    } finally {
      process.kill(-stranger.pid, "SIGKILL");
    }
  }, 30_000);

  test("never signals a reused pid, nor the processes of an owner still running", async () => {
    await using dir = tempDir();
    using state = disposable(openState(join(dir.path, "state")));
    const reused = group("exec sleep 300", dir.path);
    const running = group("exec sleep 300", dir.path);
    try {
      // The record names a process that started earlier than the one with its pid now.
      recordOfGoneOwner(state, runIn(state, dir.path).id, reused.pid, processEntry(reused.pid)!.started - 1);
      // This test's process recorded it, as a daemon does, and still runs (an `edgetrain fit` beside a start).
      recordRunProcess(state, runIn(state, dir.path).id, 0, running.pid);
      await stopLeftoverTrainers(state, recordingLogger([]), 5000);
      expect(processState(reused.pid)).not.toBe("gone");
      expect(processState(running.pid)).not.toBe("gone");
      expect(runProcesses(state.db).map((row) => row.pid)).toEqual([running.pid]);
    } finally {
      reused.kill("SIGKILL");
      running.kill("SIGKILL");
    }
  }, 30_000);

  test("a group that ignores SIGTERM gets SIGKILL after the grace period", async () => {
    await using dir = tempDir();
    using state = disposable(openState(join(dir.path, "state")));
    const run = runIn(state, dir.path);
    const stubborn = group("trap '' TERM; sleep 300 >/dev/null & echo ready; exec >&-; wait", dir.path);
    await stubborn.stdout.text();
    recordOfGoneOwner(state, run.id, stubborn.pid, processEntry(stubborn.pid)!.started);
    const lines: LoggedLine[] = [];
    await stopLeftoverTrainers(state, recordingLogger(lines), 300);
    expect(processGroupMembers(stubborn.pid)).toEqual([]);
    expect(lines[0]!.fields?.signal).toBe("SIGKILL after 0.3 s");
  }, 30_000);

  test("a run forgets the trainers it stopped, and keeps those it left", async () => {
    await using dir = tempDir();
    using state = disposable(openState(join(dir.path, "state")));
    const ended = group("exec sleep 300", dir.path);
    const left = group("exec sleep 300", dir.path);
    try {
      const run = runIn(state, dir.path);
      recordRunProcess(state, run.id, 0, ended.pid);
      recordRunProcess(state, run.id, 1, left.pid);
      expect(runProcesses(state.db).map((row) => [row.worker, row.pgid])).toEqual(
        [
          ["0", ended.pid],
          ["1", left.pid],
        ].sort((a, b) => Number(a[1]) - Number(b[1])),
      );
      ended.kill("SIGKILL");
      await ended.exited;
      run.failed(new Error("worker 1 failed"), false);
      expect(runProcesses(state.db).map((row) => row.pid)).toEqual([left.pid]);
    } finally {
      left.kill("SIGKILL");
    }
  }, 30_000);

  test("a process that cannot be recorded (a full disk) leaves the run going, with a warning", async () => {
    await using dir = tempDir();
    const lines: LoggedLine[] = [];
    const result = await runStrategy({
      strategy: "command",
      options: { command: `echo '{"event":"artifact","path":"model.onnx"}'; touch model.onnx` },
      scope: { plugins: registryOf([commandStrategy]), logger: recordingLogger(lines), paths: pathsIn(dir.path) },
      job: "trainers",
      runDir: dir.path,
      signal: new AbortController().signal,
      loadData: () => Promise.reject(new Error("external trainers read their own data")),
      onProcess: () => {
        throw new Error("database or disk is full");
      },
    });
    expect(result.artifact).toBe(join(dir.path, "worker-0/model.onnx"));
    const warned = lines.find((line) => line.message.startsWith("could not record a trainer's process"));
    expect(warned?.fields).toMatchObject({ job: "trainers", worker: 0, error: "database or disk is full" });
  }, 30_000);
});
