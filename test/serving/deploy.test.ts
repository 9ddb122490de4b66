import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Deployer } from "../../runtime/deploy/deployer.ts";
import { gateVerdict } from "../../runtime/deploy/gate-verdict.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import type { TrainResult } from "../../runtime/plugin-api.ts";
import { ScoringThread } from "../../runtime/scoring/scoring-thread.ts";
import { tempDir } from "../helpers.ts";
import { metadataOf, servingStack, trainedModels } from "./fixture.ts";

const job = (deploy: unknown[], extra: Record<string, unknown> = {}) => ({
  jobs: { activity: { strategy: "random-forest", data: { source: "sessions", path: "athletes" }, deploy, ...extra } },
});

async function deployer(home: string, profile: Record<string, unknown>) {
  const stack = await servingStack(home, profile);
  const deploy = new Deployer({
    ...stack,
    logger: silentLogger,
    events: stack.bus,
    serving: (pattern, within) => stack.service.servedRecently(pattern, within),
  });
  let run = 0;
  const models = await trainedModels(home);
  const send = (result: TrainResult) =>
    deploy.deploy({
      job: "activity",
      key: "player_1",
      spec: stack.profile.jobs.activity!,
      run: `run-${++run}`,
      result,
      heldOut: models.heldOut,
      logger: silentLogger,
      signal: new AbortController().signal,
    });
  return { stack, send, models };
}

describe("deploy steps", () => {
  test("gate: a worse candidate is kept but rejected with both scores; a good one is activated", async () => {
    await using dir = tempDir();
    const { stack, send, models } = await deployer(dir.path, job(["gate", "activate"]));
    const first = await send(models.good);
    expect(first).toMatchObject({ model: "activity-player_1", version: 1, status: "activated" });
    const weak = await send(models.weak);
    expect(weak.status).toBe("rejected");
    expect(weak.message).toContain("rejected: accuracy");
    const rejected = stack.store.version("activity-player_1", 2)!;
    expect(rejected.status).toBe("rejected");
    expect(rejected.gate).toMatchObject({ metric: "accuracy", passed: false, active_version: 1 });
    expect((rejected.gate!.candidate as number) < (rejected.gate!.active as number)).toBe(true);
    expect(stack.store.activeVersion("activity-player_1")).toBe(1);
    // Scored in a thread of its own: the rejected candidate never took a place among the serving sessions.
    expect(stack.pool.loaded().map((m) => m.version)).not.toContain(2);
    // Retrained on the same rows: exactly as good, so within the tolerance.
    const again = await send(models.good);
    expect(again.status).toBe("activated");
    expect(stack.store.version("activity-player_1", 3)!.gate).toMatchObject({ passed: true, active_version: 1 });
    expect(stack.store.activeVersion("activity-player_1")).toBe(3);
    expect(stack.events.map((e) => e.type)).toContain("model.rejected");
    stack.close();
  }, 60_000);

  test("gate: a candidate whose model cannot be scored is not activated, and the error says why", async () => {
    await using dir = tempDir();
    const { stack, send, models } = await deployer(dir.path, job(["gate", "activate"]));
    expect((await send(models.good)).status).toBe("activated");
    const broken = join(dir.path, "broken.onnx");
    writeFileSync(broken, readFileSync(models.newer.artifact).subarray(0, 100));
    const outcome = await send({ ...models.newer, artifact: broken });
    expect(outcome.status).toBe("failed");
    expect(outcome.steps[0]).toMatchObject({ step: "gate", ok: false });
    expect(outcome.message).toMatch(/^gate: model activity-player_1 version 2 could not be scored: .*protobuf/);
    expect(stack.store.activeVersion("activity-player_1")).toBe(1);
    stack.close();
  }, 60_000);

  test("gate: with the active version damaged on disk, a candidate is compared against nothing and passes, and the " +
    "verdict says so", async () => {
    await using dir = tempDir();
    const { stack, send, models } = await deployer(dir.path, job(["gate", "activate"]));
    expect((await send(models.good)).status).toBe("activated");
    const damaged = stack.store.version("activity-player_1", 1)!.path;
    truncateSync(damaged, 100);
    // The weak model, which a whole version 1 would have kept out (the first test).
    const outcome = await send(models.weak);
    expect(outcome.status).toBe("activated");
    expect(outcome.steps[0]).toMatchObject({
      step: "gate",
      ok: true,
      message: expect.stringMatching(
        new RegExp(
          `^passed: accuracy [\\d.]+; the active version 1 is damaged \\(file ${damaged}\\): compared against nothing$`,
        ),
      ),
    });
    const gate = stack.store.version("activity-player_1", 2)!.gate;
    expect(gate).toMatchObject({ passed: true, damaged_version: 1, damaged_file: damaged });
    expect(gateVerdict(gate)).toMatch(
      new RegExp(
        `^passed: accuracy [\\d.]+ on \\d+ held-out rows; the active version 1 is damaged \\(file ${damaged}\\): ` +
          `compared against nothing$`,
      ),
    );
    expect(stack.store.activeVersion("activity-player_1")).toBe(2);
    await stack.close();
  }, 60_000);

  test("command: a failing health check restores the previous version and runs the hook again for it", async () => {
    await using dir = tempDir();
    const log = join(dir.path, "hooks.log");
    const { stack, send, models } = await deployer(
      dir.path,
      job([
        "activate",
        {
          type: "command",
          run: `echo "$EDGETRAIN_VERSION $EDGETRAIN_ROLLBACK" >> ${log}`,
          health: { command: 'test "$EDGETRAIN_VERSION" = 1', attempts: 2, interval: "10ms" },
        },
      ]),
    );
    expect((await send(models.good)).status).toBe("activated");
    const second = await send(models.newer);
    expect(second.status).toBe("failed");
    expect(second.steps.at(-1)).toMatchObject({ step: "command", ok: false, rolled_back: true });
    expect(second.message).toContain('health check `test "$EDGETRAIN_VERSION" = 1` exited 1');
    expect(stack.store.activeVersion("activity-player_1")).toBe(1);
    expect(stack.store.version("activity-player_1", 2)!.status).toBe("rolled_back");
    expect(
      readFileSync(log, "utf8")
        .trim()
        .split("\n")
        .map((line) => line.trim()),
    ).toEqual(["1", "2", "1 1"]);
    // Serving follows the rollback.
    expect(
      (await stack.service.predict("activity-player_1", { inputs: [Array.from(models.heldOut.x.slice(0, 16))] }))
        .version,
    ).toBe(1);
    stack.close();
  }, 60_000);

  test("command: a hook that outlives its timeout is killed with everything it started and rolled back; one that " +
    "leaves a process behind on purpose is not waited for", async () => {
    await using dir = tempDir();
    const pidFile = join(dir.path, "child.pid");
    // The hook starts a child that keeps the hook's output open, as a script calling a slow tool does.
    const background = join(dir.path, "background.pid");
    // Version 1's hook leaves a process running on purpose (a predictor it starts), holding the hook's output.
    const hang = `if [ "$EDGETRAIN_VERSION" = 1 ]; then sleep 30 & echo $! > ${background}; fi
      if [ "$EDGETRAIN_VERSION" = 2 ] && [ -z "$EDGETRAIN_ROLLBACK" ]; then sleep 30 & echo $! > ${pidFile}; wait; fi`;
    const { stack, send, models } = await deployer(
      dir.path,
      job(["activate", { type: "command", run: hang, timeout: "5s" }]),
    );
    const first = performance.now();
    expect((await send(models.good)).status).toBe("activated");
    expect(performance.now() - first).toBeLessThan(4_000);
    const left = Number(readFileSync(background, "utf8"));
    expect(existsSync(`/proc/${left}`)).toBe(true);
    process.kill(left, "SIGKILL");
    const started = performance.now();
    const second = await send(models.newer);
    expect(performance.now() - started).toBeLessThan(20_000);
    expect([second.status, second.message]).toEqual([
      "failed",
      expect.stringContaining("was killed (SIGKILL, timeout 5000 ms)"),
    ]);
    expect(stack.store.activeVersion("activity-player_1")).toBe(1);
    const child = Number(readFileSync(pidFile, "utf8"));
    await Bun.sleep(100);
    expect(existsSync(`/proc/${child}`) && !readFileSync(`/proc/${child}/stat`, "utf8").includes(") Z ")).toBe(false);
    stack.close();
  }, 60_000);

  test("command: a health URL that answers 503 rolls back too", async () => {
    await using dir = tempDir();
    const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("down", { status: 503 }) });
    const { stack, send, models } = await deployer(
      dir.path,
      job([
        "activate",
        { type: "command", run: "true", health: { url: `http://127.0.0.1:${server.port}/health`, attempts: 1 } },
      ]),
    );
    const first = await send(models.good);
    expect(first.status).toBe("failed");
    expect(first.message).toContain("answered 503");
    // Nothing served before, so nothing to return to: the candidate is withdrawn, not left serving.
    expect(stack.store.activeVersion("activity-player_1")).toBeUndefined();
    expect(stack.store.version("activity-player_1", 1)!.status).toBe("rolled_back");
    await expect(stack.service.predict("activity-player_1", { inputs: [[1]] })).rejects.toThrow(
      "has no active version",
    );
    server.stop(true);
    stack.close();
  }, 60_000);

  test("copy-to-dir: the Nano layout, with the replaced file kept, and live predictors respected", async () => {
    await using dir = tempDir();
    const lockfile = join(dir.path, "predictor.lock");
    const { stack, send, models } = await deployer(dir.path, {
      ...job(
        [
          { type: "gate", tolerance: 0.2 },
          "activate",
          {
            type: "copy-to-dir",
            dir: "athlete_models_tensors_updated",
            previous_dir: "athlete_models_tensors_previous",
          },
        ],
        { constraints: { not_during: ["live", "api"], on_conflict: "wait" } },
      ),
      conflicts: {
        predictors: [
          { name: "live", lockfile },
          { name: "api", serving: "activity-*" },
        ],
        max_wait: "3s",
        check_interval: "300ms",
      },
    });
    const updated = join(dir.path, "athlete_models_tensors_updated/player_1.onnx");
    const previous = join(dir.path, "athlete_models_tensors_previous/player_1.onnx");
    expect((await send(models.good)).status).toBe("activated");
    expect(readFileSync(updated)).toEqual(readFileSync(models.good.artifact));
    expect(existsSync(previous)).toBe(false);

    // edgetrain's own serving of the model counts as a live predictor until it has been quiet for check_interval.
    const met = () =>
      stack.state.db
        .query<{ data: string }, []>("SELECT data FROM events WHERE type = 'conflict.met'")
        .all()
        .map((row) => JSON.parse(row.data));
    let served = 0;
    const predict = () => {
      served = performance.now();
      return stack.service.predict("activity-player_1", { inputs: [Array.from(models.heldOut.x.slice(0, 16))] });
    };
    await predict();
    let sent: Awaited<ReturnType<typeof send>> | undefined;
    const sending = send(models.newer).then((result) => (sent = result));
    // Serving goes on until the copy meets it: gate and activation may take longer than check_interval here.
    while (met().length === 0 && !sent) {
      await predict();
      await Bun.sleep(50);
    }
    expect((await sending).status).toBe("activated");
    // The copy waited until serving had been quiet for check_interval (300 ms).
    expect(performance.now() - served).toBeGreaterThan(250);
    expect(readFileSync(updated)).toEqual(readFileSync(models.newer.artifact));
    expect(readFileSync(previous)).toEqual(readFileSync(models.good.artifact));
    expect(met()[0]?.predictors[0]).toMatchObject({ name: "api", found: "serving", model: "activity-player_1" });

    // A predictor holding its lockfile past max_wait: the files stay as they were, and the copy is pending.
    writeFileSync(lockfile, String(process.pid));
    const blocked = await send(models.good);
    expect(blocked.status).toBe("activated");
    expect(blocked.steps.at(-1)).toMatchObject({ step: "copy-to-dir", ok: true });
    const pending = / pending \(gave up after 3s: live \(lockfile.*retried when its predictors go quiet$/;
    expect(blocked.steps.at(-1)!.message).toMatch(pending);
    expect(readFileSync(updated)).toEqual(readFileSync(models.newer.artifact));
    stack.close();
  }, 60_000);
});

test("the scoring thread predicts as the serving session does, reads model descriptions, runs in the training class, " +
  "and is gone after close()", async () => {
  await using dir = tempDir();
  const stack = await servingStack(dir.path);
  const models = await trainedModels(dir.path);
  const version = await stack.store.addVersion("activity-player_1", models.good.artifact, metadataOf(models.good));
  const width = models.heldOut.featureNames.length;
  const rows = 40;
  const inputs = Array.from({ length: rows }, (_, row) =>
    Array.from(models.heldOut.x.subarray(row * width, (row + 1) * width)),
  );
  const served = await stack.service.predictDirect(version, inputs);
  // Field 41 of a thread's stat is its scheduling policy; 5 is SCHED_IDLE. Only worker threads count: the garbage
  // collector's helper threads that a worker starts take its class too, and come and go as they please.
  const idleWorkers = () =>
    readdirSync("/proc/self/task").filter(
      (tid) =>
        readFileSync(`/proc/self/task/${tid}/stat`, "utf8").split(") ")[1]!.split(" ")[38] === "5" &&
        readFileSync(`/proc/self/task/${tid}/comm`, "utf8").trim() === "Worker",
    );
  const before = new Set(idleWorkers());
  const idleThreads = () => idleWorkers().filter((tid) => !before.has(tid)).length;
  const scoring = new ScoringThread({
    preference: "auto",
    cacheDir: join(dir.path, "cache"),
    threads: 1,
    priority: { class: "idle", nice: 10 },
  });
  const predicted = await scoring.predict(
    version.path,
    models.heldOut.x.slice(0, rows * width),
    rows,
    width,
    version.classes ?? [],
  );
  expect(predicted).toEqual(served.map((output) => (output as { label: string }).label));
  expect(await scoring.describe(version.path)).toMatchObject({
    task: "classification",
    feature_names: models.heldOut.featureNames,
    classes: version.classes,
  });
  const notAModel = join(dir.path, "notes.onnx");
  writeFileSync(notAModel, "not a model");
  // Awaited by hand: `expect(…).rejects` never saw this worker's reply under bun test.
  const failed = await scoring.describe(notAModel).then(
    () => "described",
    (error: Error) => error.message,
  );
  expect(failed).toContain("notes.onnx is not an ONNX model");
  expect(idleThreads()).toBe(1);
  scoring.close();
  for (let waited = 0; idleThreads() > 0 && waited < 5000; waited += 50) await Bun.sleep(50);
  expect(idleThreads()).toBe(0);
  await expect(scoring.predict(join(dir.path, "missing.onnx"), new Float32Array(width), 1, width, [])).rejects.toThrow(
    "missing.onnx",
  );
  scoring.close();
  stack.close();
}, 60_000);
