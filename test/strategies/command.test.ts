import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import commandStrategy from "../../plugins/strategies/command/index.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import { processGroupMembers as membersOf } from "../../runtime/os/process-identity.ts";
import type { TrainResult } from "../../runtime/plugin-api.ts";
import { registryOf } from "../../runtime/plugins/registry.ts";
import { PauseSwitch } from "../../runtime/training/pause-switch.ts";
import { runStrategy } from "../../runtime/training/run-strategy.ts";
import { ThreadAllowance } from "../../runtime/training/thread-allowance.ts";
import { pathsIn, processState, repoRoot, stoppedOrStopping, tempDir } from "../helpers.ts";

const python = "/usr/bin/python3";
const example = join(repoRoot, "plugins/strategies/examples/train_example.py");
const hasOnnx = existsSync(python) && Bun.spawnSync([python, "-c", "import onnx"]).exitCode === 0;

interface Started {
  done: Promise<TrainResult>;
  pause: PauseSwitch;
  threads: ThreadAllowance;
  abort: AbortController;
  events: Array<{ type: string; data: Record<string, unknown> }>;
  progress: Array<{ done: number; total: number; message?: string }>;
}

async function start(
  runDir: string,
  options: Record<string, unknown>,
  memoryLimitMb?: number,
  threadsAllowed?: number,
): Promise<Started> {
  const events: Started["events"] = [];
  const progress: Started["progress"] = [];
  const abort = new AbortController();
  const pause = new PauseSwitch();
  const threads = new ThreadAllowance();
  threads.set(threadsAllowed);
  const done = runStrategy({
    strategy: "command",
    options,
    scope: {
      plugins: registryOf([commandStrategy]),
      logger: silentLogger,
      paths: pathsIn(runDir),
      events: { emit: (type, data) => void events.push({ type, data }) },
    },
    job: "gpu-trainers",
    key: "resnet",
    runDir,
    signal: abort.signal,
    pause,
    threads,
    memoryLimitMb,
    progress: { update: (done, total, message) => void progress.push({ done, total, message }) },
    loadData: () => Promise.reject(new Error("external trainers read their own data")),
  });
  done.catch(() => undefined);
  return { done, pause, threads, abort, events, progress };
}

async function until(predicate: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await Bun.sleep(20);
  }
}

/** A trainer in shell: `beats` heartbeats (with its pid) every `every` seconds, then `tail` commands. */
const shellTrainer = (
  beats: number,
  every: number,
  tail = 'echo \'{"event":"artifact","path":"model.onnx"}\'; touch model.onnx',
) =>
  `i=0; while [ $i -lt ${beats} ]; do i=$((i+1)); echo ` +
  `"{\\"event\\":\\"heartbeat\\",\\"epoch\\":$i,\\"epochs\\":${beats},\\"pid\\":$$}"; sleep ${every}; done; ${tail}`;

describe("command strategy", () => {
  test.skipIf(!hasOnnx)(
    "the example trainer: heartbeats, checkpoints, log tail and an ONNX artifact, from two workers",
    async () => {
      await using dir = tempDir();
      const run = await start(dir.path, {
        command: [python, example],
        params: { epochs: 3 },
        workers: 2,
        select_metric: "accuracy",
      });
      const result = await run.done;
      expect(result.metrics.accuracy).toBeGreaterThan(0.9);
      const workers = result.metadata!.workers as Array<{
        id: number;
        dir: string;
        checkpoints: unknown[];
        log_tail: string[];
        lastHeartbeat: { epoch: number };
      }>;
      expect(workers.map((w) => w.id)).toEqual([0, 1]);
      for (const worker of workers) {
        expect(worker.dir).toBe(join(dir.path, `worker-${worker.id}`));
        expect(worker.checkpoints).toHaveLength(3);
        expect(worker.lastHeartbeat.epoch).toBe(3);
        expect(worker.log_tail[0]).toStartWith(`worker ${worker.id}: 400 rows`);
        expect(JSON.parse(readFileSync(join(worker.dir, "status.json"), "utf8")).status).toBe("succeeded");
        expect(readFileSync(join(worker.dir, "train.log"), "utf8")).toContain('"event": "checkpoint"');
      }
      expect(run.events.filter((e) => e.type === "run.heartbeat")).toHaveLength(6);
      expect(run.progress.at(-1)).toMatchObject({ done: 3, total: 3 });
      const session = await ort.InferenceSession.create(result.artifact);
      const out = await session.run({ features: new ort.Tensor("float32", Float32Array.from([2, 2, -2, -2]), [2, 2]) });
      expect(Array.from(out.label!.data as BigInt64Array, Number)).toEqual([1, 0]);
    },
    30_000,
  );

  test("a trainer's log lines are events while it runs, not only a tail at its end", async () => {
    await using dir = tempDir();
    const go = join(dir.path, "go");
    const trainer =
      `echo loading data; echo cuda not found >&2; while [ ! -f ${go} ]; do sleep 0.05; done; ` +
      `echo '{"event":"artifact","path":"model.onnx"}'; touch model.onnx`;
    const run = await start(dir.path, { command: trainer });
    const lines = () => run.events.filter((e) => e.type === "run.log").map((e) => e.data.line);
    // The trainer waits for the file the test writes only once it has seen both lines.
    await until(() => lines().includes("loading data") && lines().includes("cuda not found"));
    expect(run.events.find((e) => e.type === "run.log")!.data.worker).toBe(0);
    await Bun.write(go, "");
    await run.done;
  }, 30_000);

  test("a silent trainer is marked stalled and killed; with on_stall: restart it is restarted first", async () => {
    await using dir = tempDir();
    const killed = await start(dir.path, {
      command: shellTrainer(1, 30),
      heartbeat_timeout: "400ms",
      grace_period: "200ms",
    });
    await expect(killed.done).rejects.toThrow("worker 0 stalled: no heartbeat for 0.4 s");
    expect(killed.events.some((e) => e.type === "run.stalled")).toBe(true);

    const restarted = await start(join(dir.path, "again"), {
      command: shellTrainer(1, 30),
      heartbeat_timeout: "400ms",
      grace_period: "200ms",
      on_stall: "restart",
      max_restarts: 1,
    });
    await expect(restarted.done).rejects.toThrow("stalled: no heartbeat for 0.4 s after 1 restart(s)");
    expect(restarted.events.filter((e) => e.type === "run.heartbeat")).toHaveLength(2);
  }, 30_000);

  test("pause stops the whole process group with SIGSTOP and resume continues it; no stall while paused", async () => {
    await using dir = tempDir();
    const run = await start(dir.path, { command: shellTrainer(12, 0.1), heartbeat_timeout: "500ms" });
    await until(() => run.events.some((e) => e.type === "run.heartbeat"));
    const pid = run.events.find((e) => e.type === "run.heartbeat")!.data.pid as number;
    run.pause.set(true);
    await until(() => processState(pid) === "T");
    const beatsWhilePaused = run.events.length;
    await Bun.sleep(1200); // longer than heartbeat_timeout
    expect(processState(pid)).toBe("T");
    expect(run.events.length).toBe(beatsWhilePaused);
    run.pause.set(false);
    await until(() => processState(pid) !== "T");
    const result = await run.done;
    expect(result.artifact).toBe(join(dir.path, "worker-0/model.onnx"));
  }, 30_000);

  test("trainers past the thread allowance stay stopped until one before them finishes or the allowance " +
    "grows", async () => {
    await using dir = tempDir();
    const run = await start(
      dir.path,
      { command: shellTrainer(4, 0.1), workers: 3, heartbeat_timeout: "500ms" },
      undefined,
      1,
    );
    const beat = (worker: number, epoch: number) =>
      run.events.findIndex(
        (e) => e.type === "run.heartbeat" && e.data.worker === worker && (e.data.epoch as number) >= epoch,
      );
    const pidOf = (worker: number) =>
      run.events.find((e) => e.type === "run.process" && e.data.worker === worker)!.data.pid as number;
    await until(() => run.events.filter((e) => e.type === "run.process").length === 3);
    await until(() => stoppedOrStopping(pidOf(2)));
    // Stopped or not, all three count as the run's trainers: the governor's latency guard takes them one at a time.
    expect(run.threads.inUse).toBe(3);
    // Trainer 0 beats to its end; only then does trainer 1 go on, while trainer 2 stays stopped.
    await until(() => beat(1, 4) >= 0, 10_000);
    expect(beat(1, 2)).toBeGreaterThan(beat(0, 4));
    expect(stoppedOrStopping(pidOf(2))).toBe(true);
    expect(beat(2, 2)).toBe(-1);
    const widenedAt = run.events.length;
    run.threads.set(undefined);
    const result = await run.done;
    expect(beat(2, 2)).toBeGreaterThanOrEqual(widenedAt);
    expect((result.metadata!.workers as Array<{ status: string }>).map((w) => w.status)).toEqual([
      "succeeded",
      "succeeded",
      "succeeded",
    ]);
    expect(run.threads.inUse).toBe(0);
  }, 30_000);

  test("cancel sends SIGTERM, then SIGKILL to a trainer that ignores it, and leaves no orphan", async () => {
    await using dir = tempDir();
    const script =
      `trap '' TERM; sleep 300 & echo "{\\"event\\":\\"heartbeat\\",\\"pid\\":$$,\\"child\\":$!}"; ` +
      `while true; do sleep 0.1; echo '{"event":"heartbeat"}'; done`;
    const run = await start(dir.path, { command: script, grace_period: "300ms" });
    await until(() => run.events.some((e) => e.type === "run.heartbeat" && e.data.child));
    const { pid, child } = run.events.find((e) => e.data.child)!.data as { pid: number; child: number };
    expect(membersOf(pid).length).toBeGreaterThanOrEqual(2);
    run.abort.abort("user asked");
    await expect(run.done).rejects.toThrow("run cancelled: user asked");
    expect(membersOf(pid)).toEqual([]);
    // Dead: gone, or a zombie waiting for init (its shell parent was killed) to reap it.
    expect(["gone", "Z"]).toContain(processState(child));
  }, 30_000);

  test("a trainer over governor.memory_limit_mb is stopped with a clear message", async () => {
    await using dir = tempDir();
    const hog =
      `import json, time\nblock = bytearray(300 * 1024 * 1024)\nfor i in range(0, len(block), 4096): ` +
      `block[i] = 1\nwhile True:\n    print(json.dumps({"event": "heartbeat"}), flush=True)\n    time.sleep(0.1)\n`;
    const file = join(dir.path, "hog.py");
    await Bun.write(file, hog);
    const run = await start(
      join(dir.path, "run"),
      { command: [python, file], heartbeat_timeout: "5s", grace_period: "200ms" },
      100,
    );
    await expect(run.done).rejects.toThrow(/worker 0 stopped: uses \d+ MB, over governor.memory_limit_mb 100 MB/);
  }, 30_000);

  test("a trainer that fails or reports no artifact fails the run with its last log lines", async () => {
    await using dir = tempDir();
    const crash = await start(dir.path, { command: "echo 'CUDA out of memory' >&2; exit 3" });
    await expect(crash.done).rejects.toThrow("worker 0 exited with code 3: CUDA out of memory");
    const silent = await start(join(dir.path, "b"), { command: shellTrainer(1, 0, "true") });
    await expect(silent.done).rejects.toThrow("exited without reporting an artifact");
  });
});

describe("runs by hand are recorded", () => {
  test("edgetrain fit in a home keeps heartbeat, checkpoints and log tail in state and in the run folder", async () => {
    await using dir = tempDir();
    const { runCli } = await import("../helpers.ts");
    const { Database } = await import("bun:sqlite");
    const home = join(dir.path, "home");
    expect((await runCli(["setup", "--home", home], { home: dir.path })).code).toBe(0);
    const trainer =
      "echo 'loading data'; for e in 1 2; do echo " +
      '"{\\"event\\":\\"heartbeat\\",\\"epoch\\":$e,\\"epochs\\":2,\\"loss\\":0.$e}"; echo ' +
      '"{\\"event\\":\\"checkpoint\\",\\"path\\":\\"ckpt$e\\",\\"metrics\\":{\\"loss\\":0.$e}}"; done; touch ' +
      'model.onnx; echo \'{"event":"artifact","path":"model.onnx","metrics":{"accuracy":0.9}}\'';
    const fit = await runCli(
      [
        "fit",
        "--home",
        home,
        "--strategy",
        "command",
        "--set",
        `command=${JSON.stringify(trainer)}`,
        "--json",
        "--out",
        join(dir.path, "m.onnx"),
      ],
      { home: dir.path },
    );
    expect(fit.stderr).toBe("");
    const { run } = JSON.parse(fit.stdout) as { run: string };
    const db = new Database(join(home, "state/edgetrain.db"), { readonly: true });
    const row = db
      .query<{ status: string; trigger: string; metrics: string; details: string; run_dir: string }, [string]>(
        "SELECT status, trigger, metrics, details, run_dir FROM runs WHERE id = ?",
      )
      .get(run)!;
    db.close();
    expect(row).toMatchObject({
      status: "succeeded",
      trigger: "manual: edgetrain fit",
      run_dir: join(home, "runs", run),
    });
    expect(JSON.parse(row.metrics)).toEqual({ accuracy: 0.9 });
    const details = JSON.parse(row.details) as {
      last_heartbeat: { epoch: number };
      checkpoints: Array<{ path: string }>;
      log_tail: string[];
    };
    expect(details.last_heartbeat.epoch).toBe(2);
    expect(details.checkpoints.map((c) => c.path)).toEqual([
      join(home, "runs", run, "worker-0/ckpt1"),
      join(home, "runs", run, "worker-0/ckpt2"),
    ]);
    expect(details.log_tail).toEqual(["loading data"]);
    const file = JSON.parse(readFileSync(join(home, "runs", run, "run.json"), "utf8")) as {
      status: string;
      checkpoints: unknown[];
    };
    expect(file.status).toBe("succeeded");
    expect(file.checkpoints).toHaveLength(2);
  }, 30_000);
});
