import { expect, test } from "bun:test";
import { join } from "node:path";
import { resolveProfile } from "../../runtime/config/validate-profile.ts";
import { isDiskFull } from "../../runtime/files/disk-full.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import type { Logger } from "../../runtime/plugin-api.ts";
import { openState } from "../../runtime/state/database.ts";
import { JobRunner } from "../../runtime/training/job-runner.ts";
import { PauseSwitch } from "../../runtime/training/pause-switch.ts";
import type { RunOutcome } from "../../runtime/training/run-request.ts";
import { runStrategyInThread } from "../../runtime/training/strategy-thread.ts";
import { ThreadAllowance } from "../../runtime/training/thread-allowance.ts";
import { pathsIn, tempDir, testEnvironment, waitUntil } from "../helpers.ts";

// A user strategy that reports where it runs, counts its runs in its store, and steps through checkpoints.
const PROBE = `
import { readFileSync } from "node:fs";
// Fields 19 (nice) and 41 (scheduling policy: 0 normal, 5 idle) of proc(5)'s stat, counted after the command name.
const schedulingOf = (stat) => {
  const fields = stat.split(") ")[1].split(" ");
  return { nice: Number(fields[16]), policy: Number(fields[38]) };
};
export default {
  kind: "strategy", name: "probe", version: "1.0.0",
  options: ({ v }) =>
    v.strictObject({
      steps: v.optional(v.number(), 3),
      fail: v.optional(v.string()),
      escape: v.optional(v.string()),
      load: v.optional(v.boolean(), false),
    }),
  setup: (ctx) => ({
    async train(request) {
      if (ctx.options.load) await request.loadData();
      if (ctx.options.fail) throw new Error(ctx.options.fail);
      if (ctx.options.escape) {
        // A callback's throw, out of train()'s reach; "ENOSPC" here is what Bun's report used to quote.
        setTimeout(() => { throw new Error(ctx.options.escape); }, 0);
        return await new Promise(() => {});
      }
      const runs = (ctx.store.get("runs") ?? 0) + 1;
      ctx.store.set("runs", runs);
      const child = schedulingOf(Bun.spawnSync(["cat", "/proc/self/stat"]).stdout.toString());
      const own = schedulingOf(readFileSync("/proc/thread-self/stat", "utf8"));
      ctx.logger.child({ probe: true }).info("probe started", { main_thread: Bun.isMainThread, ...own, child, runs });
      ctx.events.emit("run.checkpoint", { step: 0 });
      for (let step = 1; step <= ctx.options.steps; step++) {
        await request.checkpoint();
        request.progress.update(step, ctx.options.steps, "step " + step);
        await Bun.sleep(40);
      }
      return { artifact: ctx.libraries.writeAtomically(request.runDir + "/model.onnx", "probe"), metrics: { runs } };
    },
  }),
};
`;

interface Line {
  level: string;
  message: string;
  fields: Record<string, unknown>;
}

function recordingLogger(lines: Line[], bound: Record<string, unknown> = {}): Logger {
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    void lines.push({ level, message, fields: { ...bound, ...fields } });
  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: (more) => recordingLogger(lines, { ...bound, ...more }),
  };
}

async function setUp(dir: ReturnType<typeof tempDir>, options: string, governor = "{}", extra = "") {
  const home = join(dir.path, "home");
  dir.write("home/plugins/probe.ts", PROBE);
  const file = dir.write(
    "home/profile.yaml",
    `paths:\n  home: ${home}\ngovernor: ${governor}\n${extra}jobs:\n  probe:\n    strategy: probe\n    options: ` +
      `${options}\n    triggers: [{ type: manual }]\n`,
  );
  const resolved = await resolveProfile(file, testEnvironment(dir.path));
  expect(resolved.problems.filter((p) => p.severity === "error")).toEqual([]);
  const state = openState(resolved.paths!.state);
  const lines: Line[] = [];
  const events: Array<{ type: string; data: Record<string, unknown> }> = [];
  const runner = new JobRunner({
    profile: resolved.profile!,
    paths: resolved.paths!,
    registry: resolved.registry,
    state,
    logger: recordingLogger(lines),
    events: { emit: (type, data) => void events.push({ type, data }) },
  });
  return { runner, state, lines, events };
}

test("a strategy runs in its own, lower-priority thread; its logs, events, progress and store reach the " +
  "daemon", async () => {
  await using dir = tempDir();
  const { runner, state, lines, events } = await setUp(dir, "{ steps: 3 }");
  const progress: number[] = [];
  try {
    const [first] = await runner.run({
      job: "probe",
      trigger: "test",
      progress: { update: (done) => void progress.push(done) },
    });
    expect(first!.status).toBe("succeeded");
    const started = lines.find((line) => line.message === "probe started")!;
    // governor.training_class (default idle): the run's thread, and the processes it starts, get a core
    // only when the thread answering predictions leaves it; training_nice stays set underneath.
    expect(started.fields).toMatchObject({
      main_thread: false,
      policy: 5,
      nice: 10,
      child: { policy: 5 },
      probe: true,
      job: "probe",
      run: first!.run,
      runs: 1,
    });
    expect(progress).toEqual([1, 2, 3]);
    expect(events.find((event) => event.type === "run.checkpoint")!.data).toMatchObject({ run: first!.run, step: 0 });
    expect(events.filter((event) => event.type === "run.progress").at(-1)!.data).toMatchObject({ done: 3, total: 3 });

    const [second] = await runner.run({ job: "probe", trigger: "test" });
    expect(second!.metrics).toEqual({ runs: 2 });
    expect(state.pluginStore("strategy/probe").get("runs")).toBe(2);
    const row = state.db.query<{ details: string }, [string]>("SELECT details FROM runs WHERE id = ?").get(first!.run)!;
    expect(JSON.parse(row.details).checkpoints).toEqual([{ step: 0 }]);
  } finally {
    state.close();
  }
}, 30_000);

test("training_class normal: the run's thread shares the CPU at training_nice", async () => {
  await using dir = tempDir();
  const { runner, state, lines } = await setUp(dir, "{ steps: 1 }", "{ training_class: normal, training_nice: 7 }");
  try {
    const [run] = await runner.run({ job: "probe", trigger: "test" });
    expect(run!.status).toBe("succeeded");
    expect(lines.find((line) => line.message === "probe started")!.fields).toMatchObject({
      policy: 0,
      nice: 7,
      child: { policy: 0, nice: 7 },
    });
  } finally {
    state.close();
  }
}, 30_000);

test("the profile's defaults.strategies reach the thread's strategy, under the job's own options", async () => {
  await using dir = tempDir();
  // steps comes from the defaults (the schema's own is 3); the job's empty fail overrides theirs.
  const { runner, state } = await setUp(
    dir,
    '{ fail: "" }',
    "{}",
    'defaults:\n  strategies:\n    probe: { steps: 2, fail: "from the defaults" }\n',
  );
  const progress: number[] = [];
  try {
    const [outcome] = await runner.run({
      job: "probe",
      trigger: "test",
      progress: { update: (done) => void progress.push(done) },
    });
    expect(outcome!.status).toBe("succeeded");
    expect(progress).toEqual([1, 2]);
  } finally {
    state.close();
  }
}, 30_000);

test("pause holds a threaded run at its next checkpoint; cancel ends it as cancelled", async () => {
  await using dir = tempDir();
  const { runner, state } = await setUp(dir, "{ steps: 1000 }");
  const progress: number[] = [];
  try {
    const running = runner.run({
      job: "probe",
      trigger: "test",
      progress: { update: (done) => void progress.push(done) },
    });
    await waitUntil(() => progress.length >= 2);
    const control = [...runner.active.values()][0]!;
    control.personPause(true);
    await Bun.sleep(150);
    const held = progress.length;
    await Bun.sleep(300);
    expect(progress.length).toBe(held);
    control.personPause(false);
    await waitUntil(() => progress.length > held + 1);
    control.abort.abort("cancelled by test");
    const [outcome] = (await running) as RunOutcome[];
    expect(outcome!.status).toBe("cancelled");
    expect(outcome!.error).toBe("cancelled by test");
    expect(runner.active.size).toBe(0);
  } finally {
    state.close();
  }
}, 30_000);

test("a thread allowance of 0 rests a threaded run at its next checkpoint without pausing it", async () => {
  await using dir = tempDir();
  const file = dir.write(
    "steps.ts",
    `export default { kind: "strategy", name: "steps", version: "1.0.0", options: ({ v }) => v.object({}),
    setup: (ctx) => ({ train: async (request) => {
      for (let step = 1; step <= 1000; step++) {
        await request.checkpoint();
        request.progress.update(step, 1000);
        await Bun.sleep(40);
      }
      return { artifact: ctx.libraries.writeAtomically(request.runDir + "/model.onnx", "x"), metrics: {} };
    } }) };`,
  );
  const threads = new ThreadAllowance();
  const pause = new PauseSwitch();
  const paused: boolean[] = [];
  pause.subscribe((state) => paused.push(state));
  const progress: number[] = [];
  const abort = new AbortController();
  const running = runStrategyInThread(
    {
      plugin: { name: "steps", source: file },
      options: {},
      paths: pathsIn(dir.path),
      stateFile: join(dir.path, "none.db"),
      storeName: "strategy/steps",
      job: "steps",
      runDir: dir.path,
      priority: { class: "normal" as const, nice: 0 },
      wantHeldOut: false,
      now: Date.now(),
    },
    {
      logger: silentLogger,
      events: { emit() {} },
      progress: { update: (done) => void progress.push(done) },
      pause,
      threads,
      signal: abort.signal,
    },
  );
  await waitUntil(() => progress.length >= 2);
  threads.set(0);
  await Bun.sleep(150);
  const held = progress.length;
  await Bun.sleep(300);
  expect(progress.length).toBe(held);
  threads.set(1);
  await waitUntil(() => progress.length > held + 1);
  expect(paused).toEqual([]);
  abort.abort("cancelled by test");
  await running.catch(() => {});
}, 30_000);

test("a strategy's failure comes back with its message, and a data error with its text", async () => {
  await using dir = tempDir();
  const thrown = await setUp(dir, '{ fail: "the sensor file is empty" }');
  try {
    const [outcome] = await thrown.runner.run({ job: "probe", trigger: "test" });
    expect(outcome).toMatchObject({ status: "failed", error: "the sensor file is empty" });
    expect(thrown.lines.find((line) => line.level === "error")).toMatchObject({
      message: "run failed",
      fields: { error: "the sensor file is empty" },
    });
  } finally {
    thrown.state.close();
  }
  await using other = tempDir();
  const noData = await setUp(other, "{ load: true }");
  try {
    const [outcome] = await noData.runner.run({ job: "probe", trigger: "test" });
    expect(outcome).toMatchObject({ status: "failed", error: "job probe has no data section" });
  } finally {
    noData.state.close();
  }
}, 30_000);

test("a throw that escapes train() fails the run with its own message, not the source around it", async () => {
  await using dir = tempDir();
  const { runner, state } = await setUp(dir, '{ escape: "could not write status.json: ENOENT" }');
  try {
    const [outcome] = await runner.run({ job: "probe", trigger: "test" });
    expect(outcome).toMatchObject({ status: "failed", error: "could not write status.json: ENOENT" });
    expect(isDiskFull(outcome!.error)).toBe(false);
  } finally {
    state.close();
  }
}, 30_000);

test("a cancelled strategy that never reaches a checkpoint has its thread stopped after the grace period", async () => {
  await using dir = tempDir();
  const file = dir.write(
    "stuck.ts",
    `export default { kind: "strategy", name: "stuck", version: "1.0.0", options: ({ v }) => v.object({}),
    setup: () => ({ train: async () => { for (;;) await Bun.sleep(1000); } }) };`,
  );
  const abort = new AbortController();
  const spec = {
    plugin: { name: "stuck", source: file },
    options: {},
    paths: pathsIn(dir.path),
    stateFile: join(dir.path, "none.db"),
    storeName: "strategy/stuck",
    job: "stuck",
    runDir: dir.path,
    priority: { class: "normal" as const, nice: 0 },
    wantHeldOut: false,
    now: Date.now(),
  };
  const running = runStrategyInThread(spec, {
    logger: silentLogger,
    events: { emit() {} },
    progress: { update() {} },
    pause: new PauseSwitch(),
    threads: new ThreadAllowance(),
    signal: abort.signal,
    cancelGraceMs: 200,
  });
  await Bun.sleep(300);
  abort.abort("cancelled by test");
  await expect(running).rejects.toThrow(
    "run cancelled: cancelled by test; the strategy did not stop within 0.2 s, so its thread was stopped",
  );
}, 30_000);

test("how many threads a run trains on reaches the runner: counted from checkpoint(worker), or told by " +
  "using()", async () => {
  await using dir = tempDir();
  const file = dir.write(
    "threads.ts",
    `export default { kind: "strategy", name: "threads", version: "1.0.0", options: ({ v }) => v.object({}),
    setup: (ctx) => ({ train: async (request) => {
      await request.checkpoint(0);
      await request.checkpoint(2);
      await request.checkpoint(1);
      request.threads.using(5);
      return { artifact: ctx.libraries.writeAtomically(request.runDir + "/model.onnx", "x"), metrics: {} };
    } }) };`,
  );
  const spec = {
    plugin: { name: "threads", source: file },
    options: {},
    paths: pathsIn(dir.path),
    stateFile: join(dir.path, "none.db"),
    storeName: "strategy/threads",
    job: "threads",
    runDir: dir.path,
    priority: { class: "normal" as const, nice: 0 },
    wantHeldOut: false,
    now: Date.now(),
  };
  const threads = new ThreadAllowance();
  const counts: number[] = [];
  threads.onUsing((count) => counts.push(count));
  await runStrategyInThread(spec, {
    logger: silentLogger,
    events: { emit() {} },
    progress: { update() {} },
    pause: new PauseSwitch(),
    threads,
    signal: new AbortController().signal,
  });
  expect(counts).toEqual([1, 3, 5]);
  expect(threads.inUse).toBe(5);
}, 30_000);
