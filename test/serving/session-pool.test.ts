import { describe, expect, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { signatureOf } from "../../runtime/inference/model-signature.ts";
import { loadOnnxRuntime, type OnnxRuntime } from "../../runtime/inference/onnx-runtime.ts";
import { describe as describeModel, formatOutputs } from "../../runtime/inference/session-outputs.ts";
import { SessionPool, type SessionPoolOptions } from "../../runtime/inference/session-pool.ts";
import { sessionBytes } from "../../runtime/inference/session-slot.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import { FakeClock } from "../fake-clock.ts";
import { tempDir } from "../helpers.ts";
import { servingStack, trainedModels } from "./fixture.ts";
import { closeTo } from "./foreign-models.ts";

/** The real ONNX Runtime, counting the sessions created through it and keeping the options of each. */
function countingRuntime(cacheDir: string) {
  let created = 0;
  const options: unknown[] = [];
  const runtime = async (): Promise<OnnxRuntime> => {
    const real = await loadOnnxRuntime({ preference: "auto", cacheDir });
    const create = real.ort.InferenceSession.create.bind(real.ort.InferenceSession);
    const InferenceSession = {
      create: (...args: Parameters<typeof create>) => (created++, options.push(args[1]), create(...args)),
    };
    return { ...real, ort: { ...real.ort, InferenceSession } as never };
  };
  return { runtime, created: () => created, options: () => options };
}

async function setup(dir: string, options: Partial<SessionPoolOptions> = {}) {
  const models = await trainedModels(dir);
  const { runtime, created, options: sessionOptions } = countingRuntime(join(dir, "cache"));
  const clock = new FakeClock(Date.UTC(2026, 10, 23));
  const unloaded: unknown[] = [];
  const pool = new SessionPool({
    runtime,
    memoryBudgetMb: 512,
    accelerator: "cpu",
    maxBatchRows: 64,
    // Admission is the same for every kind of session; ONNX Runtime's are the ones counted here.
    treeEnsembles: "onnxruntime",
    logger: silentLogger,
    clock,
    events: { emit: (type, data) => type === "model.unloaded" && unloaded.push(data) },
    ...options,
  });
  const row = models.heldOut.x.slice(0, models.heldOut.featureNames.length);
  const ask = async (model: string, artifact = models.good.artifact) =>
    pool.run(await pool.acquire(model, 1, artifact), row, 1);
  return { models, pool, clock, unloaded, created, sessionOptions, ask, row };
}

const kept = (pool: SessionPool) => pool.loaded().map((slot) => slot.model);

describe("session pool admission", () => {
  test("traffic round-robin over more models than fit: the sessions kept stay, the others load for their requests " +
    "and go", async () => {
    await using dir = tempDir();
    const { pool, clock, unloaded, created, ask } = await setup(dir.path, { maxLoaded: 3 });
    const names = ["m0", "m1", "m2", "m3", "m4", "m5"];
    const expected = await ask("m0");
    const rounds = 10;
    for (let round = 0; round < rounds; round++) {
      for (const name of names) expect(await ask(name)).toEqual(expected);
      // Past the minimum residence time: what keeps the first three is that no other model is asked for more often.
      clock.advance(60_000);
      expect(kept(pool).sort()).toEqual(["m0", "m1", "m2"]);
    }
    expect(unloaded).toEqual([]);
    // Least recently used eviction loaded a session at every request of a round: 60.
    expect(created()).toBe(names.length + (rounds - 1) * 3);
    expect(pool.sessions()).toMatchObject({ loaded: 3, loads: 33, not_kept: 30, evictions: 0 });
    await pool.close();
  }, 60_000);

  test("a hot model is not evicted by a one-off; a newcomer asked for more often takes the least recently used place " +
    "once it has been kept long enough", async () => {
    await using dir = tempDir();
    const { pool, clock, unloaded, ask, models } = await setup(dir.path, { maxLoaded: 2, minResidenceMs: 10_000 });
    for (let i = 0; i < 5; i++) await ask("hot");
    await ask("warm");
    await ask("hot");
    // The one-off, answered by the weak model so that its answer tells which session gave it.
    const alone = new SessionPool({
      runtime: () => loadOnnxRuntime({ preference: "auto", cacheDir: join(dir.path, "cache") }),
      memoryBudgetMb: 512,
      accelerator: "cpu",
      maxBatchRows: 64,
      logger: silentLogger,
    });
    const row = models.heldOut.x.slice(0, models.heldOut.featureNames.length);
    const weakAnswer = await alone.run(await alone.acquire("one-off", 1, models.weak.artifact), row, 1);
    await alone.close();
    expect(await ask("one-off", models.weak.artifact)).toEqual(weakAnswer);
    expect(kept(pool)).toEqual(["warm", "hot"]);
    // Asked for more often than warm now, but warm was kept within the minimum residence time.
    clock.advance(5_000);
    for (let i = 0; i < 3; i++) await ask("one-off", models.weak.artifact);
    expect(kept(pool)).toEqual(["warm", "hot"]);
    expect(unloaded).toEqual([]);
    clock.advance(5_000);
    await ask("one-off", models.weak.artifact);
    expect(kept(pool)).toEqual(["hot", "one-off"]);
    expect(unloaded).toEqual([{ model: "warm", version: 1, reason: "max_loaded" }]);
    expect(pool.sessions()).toMatchObject({ loaded: 2, evictions: 1 });
    await pool.close();
  }, 60_000);

  test("requests arriving together to a model not kept share one session and get its answers", async () => {
    await using dir = tempDir();
    const { pool, created, ask, models } = await setup(dir.path, { maxLoaded: 1 });
    await ask("kept");
    await ask("kept");
    const before = created();
    const answers = await Promise.all(Array.from({ length: 8 }, () => ask("passing", models.weak.artifact)));
    expect(created() - before).toBe(1);
    expect(new Set(answers.map((answer) => JSON.stringify(answer))).size).toBe(1);
    expect(kept(pool)).toEqual(["kept"]);
    // A request that finds the session released in between loads it again.
    const slot = await pool.acquire("passing", 1, models.weak.artifact);
    await Bun.sleep(10);
    expect(await pool.run(slot, models.heldOut.x.slice(0, models.heldOut.featureNames.length), 1)).toEqual(answers[0]!);
    await pool.close();
  }, 60_000);

  test("the memory budget bounds the sessions kept, at the estimate of each model file", async () => {
    await using dir = tempDir();
    const { pool, clock, ask, models } = await setup(dir.path, { memoryBudgetMb: 1 });
    const estimate = (artifact: string) => sessionBytes(statSync(artifact).size);
    for (let round = 0; round < 3; round++) {
      for (const [i, artifact] of [
        models.weak.artifact,
        models.good.artifact,
        models.weak.artifact,
        models.newer.artifact,
        models.weak.artifact,
      ].entries()) {
        await ask(`m${i}`, artifact);
        expect(pool.sessions().bytes).toBeLessThanOrEqual(1_048_576);
      }
      clock.advance(60_000);
    }
    const loaded = pool.loaded();
    expect(loaded.length).toBeGreaterThanOrEqual(1);
    for (const slot of loaded)
      expect(slot.bytes).toBe(
        estimate(
          slot.model === "m1"
            ? models.good.artifact
            : slot.model === "m3"
              ? models.newer.artifact
              : models.weak.artifact,
        ),
      );
    expect(pool.sessions()).toMatchObject({
      budget_bytes: 1_048_576,
      bytes: loaded.reduce((sum, slot) => sum + slot.bytes, 0),
    });
    await pool.close();
  }, 60_000);

  test("with the profile's defaults, thirty models of the demo's size all stay loaded", async () => {
    await using dir = tempDir();
    const models = await trainedModels(dir.path);
    const stack = await servingStack(dir.path);
    const row = models.heldOut.x.slice(0, models.heldOut.featureNames.length);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 30; i++)
        await stack.pool.run(await stack.pool.acquire(`activity-player_${i}`, 1, models.good.artifact), row, 1);
    }
    expect(stack.pool.sessions()).toMatchObject({ loaded: 30, loads: 30, not_kept: 0, evictions: 0 });
    await stack.close();
  }, 60_000);

  test("sessions keep no memory arena or patterns, and answer as a session with ONNX Runtime's defaults", async () => {
    await using dir = tempDir();
    const { pool, models, sessionOptions } = await setup(dir.path, { threads: 2 });
    const { x, featureNames } = models.heldOut;
    const rows = x.length / featureNames.length;
    const answers = await pool.run(await pool.acquire("m", 1, models.good.artifact), x, rows);
    const memory = { enableCpuMemArena: false, enableMemPattern: false, intraOpNumThreads: 2 };
    expect(sessionOptions()).toEqual([expect.objectContaining(memory)]);

    const runtime = await loadOnnxRuntime({ preference: "auto", cacheDir: join(dir.path, "cache") });
    const bytes = readFileSync(models.good.artifact);
    const plain = await runtime.ort.InferenceSession.create(bytes);
    const input = new runtime.ort.Tensor("float32", x, [rows, featureNames.length]);
    const outputs = await plain.run({ [plain.inputNames[0]!]: input });
    const description = describeModel(bytes, models.good.artifact, undefined, signatureOf(plain));
    // Two intra-op threads may sum a row's trees in another order than the defaults' pool: the last of the six
    // decimals an answer keeps can differ by one.
    const expected = formatOutputs(outputs, description, rows);
    if (!closeTo(answers, expected, 1e-5)) expect(answers).toEqual(expected);
    await plain.release();
    await pool.close();
  }, 60_000);
});
