import { describe, expect, test } from "bun:test";
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadOnnxRuntime } from "../../runtime/inference/onnx-runtime.ts";
import { SessionPool } from "../../runtime/inference/session-pool.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import type { Logger } from "../../runtime/plugin-api.ts";
import { FakeClock } from "../fake-clock.ts";
import { tempDir } from "../helpers.ts";
import { metadataOf, servingStack, trainedModels } from "./fixture.ts";

const HOUR = 3_600_000;

function rowsOf(table: { x: Float32Array; featureNames: string[] }, count: number, from = 0): number[][] {
  const width = table.featureNames.length;
  return Array.from({ length: count }, (_, i) =>
    Array.from(table.x.subarray((from + i) * width, (from + i + 1) * width)),
  );
}

describe("inference", () => {
  test("with one intra-op thread, the default, loaded sessions start no threads; with two, each has its own until " +
    "unloaded", async () => {
    await using dir = tempDir();
    const models = await trainedModels(dir.path);
    const runtime = () => loadOnnxRuntime({ preference: "native", cacheDir: join(dir.path, "cache") });
    const threads = () => readdirSync("/proc/self/task").length;
    const options = {
      runtime,
      maxLoaded: 8,
      memoryBudgetMb: 512,
      accelerator: "cpu" as const,
      maxBatchRows: 64,
      treeEnsembles: "onnxruntime" as const,
      logger: silentLogger,
    };
    const row = models.heldOut.x.slice(0, models.heldOut.featureNames.length);
    const loadAll = async (pool: SessionPool) => {
      for (let i = 0; i < 6; i++) await pool.run(await pool.acquire(`m${i}`, 1, models.good.artifact), row, 1);
    };
    // The runtime's own threads start with the first session.
    const warm = new SessionPool(options);
    await warm.run(await warm.acquire("warm", 1, models.good.artifact), row, 1);
    const before = threads();
    const single = new SessionPool(options);
    await loadAll(single);
    expect(threads() - before).toBeLessThanOrEqual(1);
    await single.close();

    const pooled = new SessionPool({ ...options, threads: 2 });
    await loadAll(pooled);
    expect(threads() - before).toBeGreaterThanOrEqual(6);
    await pooled.close();
    await Bun.sleep(100);
    expect(threads() - before).toBeLessThanOrEqual(1);
    await warm.close();
  }, 60_000);

  test("a profile asking for CUDA where it does not load serves on CPU with a warning", async () => {
    await using dir = tempDir();
    const models = await trainedModels(dir.path);
    const warnings: string[] = [];
    const logger: Logger = { ...silentLogger, warn: (message) => void warnings.push(message), child: () => logger };
    const pool = new SessionPool({
      runtime: () => loadOnnxRuntime({ preference: "native", cacheDir: join(dir.path, "cache") }),
      maxLoaded: 2,
      memoryBudgetMb: 64,
      accelerator: "cuda",
      maxBatchRows: 64,
      treeEnsembles: "onnxruntime",
      logger,
    });
    const slot = await pool.acquire("m", 1, models.good.artifact);
    expect(slot.provider).toBe("cpu");
    expect(warnings).toEqual(["CUDA execution provider did not load; serving on CPU"]);
    const outputs = await pool.run(slot, models.heldOut.x.slice(0, 32), 2);
    expect(outputs).toHaveLength(2);
    expect(outputs[0]).toMatchObject({ label: expect.any(String), probabilities: expect.any(Object) });
    await pool.close();
  }, 60_000);

  test("predictions asked together run as one ONNX Runtime call and get the answers they get alone", async () => {
    await using dir = tempDir();
    const models = await trainedModels(dir.path);
    const runtime = () => loadOnnxRuntime({ preference: "auto", cacheDir: join(dir.path, "cache") });
    const options = { runtime, maxLoaded: 2, memoryBudgetMb: 512, accelerator: "cpu" as const, logger: silentLogger };
    const alone = new SessionPool({ ...options, maxBatchRows: 1 });
    const together = new SessionPool({ ...options, maxBatchRows: 16 });
    const width = models.heldOut.featureNames.length;
    // 24 requests of 1 to 3 rows: 48 rows, so batches of up to 16 rows close early and the rest spill over.
    const requests = Array.from({ length: 24 }, (_, i) => ({ from: i * 3, rows: 1 + (i % 3) }));
    const xOf = ({ from, rows }: { from: number; rows: number }) =>
      models.heldOut.x.slice(from * width, (from + rows) * width);
    const aloneSlot = await alone.acquire("m", 1, models.good.artifact);
    const expected = [];
    for (const request of requests) expected.push(await alone.run(aloneSlot, xOf(request), request.rows));
    const slot = await together.acquire("m", 1, models.good.artifact);
    const answers = await Promise.all(requests.map((request) => together.run(slot, xOf(request), request.rows)));
    expect(answers).toEqual(expected);
    expect(answers.map((outputs) => outputs.length)).toEqual(requests.map((request) => request.rows));
    expect(alone.runs()).toEqual({ calls: 24, rows: 48 });
    const { calls, rows } = together.runs();
    expect(rows).toBe(48);
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(calls).toBeLessThanOrEqual(4);
    // A request as large as a batch runs alone, at once.
    await together.run(slot, models.heldOut.x.slice(0, 16 * width), 16);
    expect(together.runs()).toEqual({ calls: calls + 1, rows: 64 });
    await alone.close();
    await together.close();
  }, 60_000);

  test("inputs are checked against the model's features before they reach the runtime", async () => {
    await using dir = tempDir();
    const models = await trainedModels(dir.path);
    const stack = await servingStack(dir.path);
    const v1 = await stack.store.addVersion("activity-player_1", models.good.artifact, metadataOf(models.good));
    await stack.activator.activate("activity-player_1", v1.version, "test");
    const names = v1.feature_names!;
    const row = rowsOf(models.heldOut, 1)[0]!;
    await expect(stack.service.predict("activity-player_1", { inputs: [row.slice(1)] })).rejects.toThrow(
      "inputs[0]: model activity-player_1 takes 16 features (hr, speed",
    );
    await expect(
      stack.service.predict("activity-player_1", {
        rows: [{ ...Object.fromEntries(names.map((n, i) => [n, row[i]!])), pace: 1 }],
      }),
    ).rejects.toThrow('rows[0].pace: model activity-player_1 has no feature "pace"');
    await expect(stack.service.predict("activity-player_1", { rows: [{ hr: 1 }] })).rejects.toThrow(
      "rows[0].speed: missing",
    );
    await expect(stack.service.predict("activity-player_9", { inputs: [row] })).rejects.toThrow(
      'no model "activity-player_9"',
    );
    const byName = await stack.service.predict("activity-player_1", {
      rows: [Object.fromEntries(names.map((n, i) => [n, row[i]!]))],
    });
    const byOrder = await stack.service.predict("activity-player_1", { inputs: [row] });
    expect(byName.outputs).toEqual(byOrder.outputs);
    expect(byOrder.cached).toBe(true);
    stack.close();
  }, 60_000);
});

describe("prediction cache", () => {
  test("ttl, the stretch while the model trains, stale-while-revalidate, and invalidation by activation", async () => {
    await using dir = tempDir();
    const models = await trainedModels(dir.path);
    const clock = new FakeClock(Date.UTC(2026, 10, 23));
    let training = false;
    const stack = await servingStack(
      dir.path,
      { cache: { type: "memory", ttl: "1h", ttl_during_training: "24h", pregenerate: { top: 0 } } },
      clock,
      () => training,
    );
    const v1 = await stack.store.addVersion("activity-player_1", models.good.artifact, metadataOf(models.good));
    await stack.activator.activate("activity-player_1", v1.version, "test");
    const ask = () => stack.service.predict("activity-player_1", { inputs: rowsOf(models.heldOut, 3) });
    expect((await ask()).cached).toBe(false);
    expect((await ask()).cached).toBe(true);
    clock.advance(HOUR + 1);
    expect((await ask()).cached).toBe(false);

    training = true;
    clock.advance(5 * HOUR);
    const stretched = await ask();
    expect([stretched.cached, stretched.stale]).toEqual([true, undefined]);
    clock.advance(20 * HOUR);
    const stale = await ask();
    expect([stale.cached, stale.stale]).toEqual([true, true]);
    await Bun.sleep(50);
    expect((await ask()).stale).toBeUndefined();
    training = false;

    const v2 = await stack.store.addVersion("activity-player_1", models.newer.artifact, metadataOf(models.newer));
    await stack.activator.activate("activity-player_1", v2.version, "test");
    const after = await ask();
    expect([after.version, after.cached]).toEqual([2, false]);
    expect(stack.service.cacheStats()).toMatchObject({ hits: expect.any(Number), misses: expect.any(Number) });
    stack.service.clearCache("activity-player_1");
    expect((await ask()).cached).toBe(false);
    stack.close();
  }, 60_000);

  test("pregenerate answers a file's inputs and the most requested ones before they are asked", async () => {
    await using dir = tempDir();
    const models = await trainedModels(dir.path);
    const clock = new FakeClock(Date.UTC(2026, 10, 23));
    const rows = rowsOf(models.heldOut, 6);
    const file = join(dir.path, "pregenerate.jsonl");
    const lines = [
      { model: "activity-player_1", inputs: [rows[0]] },
      "not json",
      { model: "other", inputs: [rows[1]] },
      { model: "activity-player_1", input: [rows[1]] },
      { model: "activity-player_1", inputs: [[1, 2, 3]] },
      { model: "activity-player_1", inputs: [[1, "x"]] },
    ];
    writeFileSync(file, lines.map((line) => (typeof line === "string" ? line : JSON.stringify(line))).join("\n"));
    const warnings: string[] = [];
    const logger = {
      ...silentLogger,
      warn: (message: string, fields?: Record<string, unknown>) =>
        void warnings.push(`${message} ${JSON.stringify(fields ?? {})}`),
    };
    const stack = await servingStack(
      dir.path,
      { cache: { type: "memory", pregenerate: { file: "pregenerate.jsonl", top: 2 } } },
      clock,
      undefined,
      logger,
    );
    const v1 = await stack.store.addVersion("activity-player_1", models.good.artifact, metadataOf(models.good));
    await stack.activator.activate("activity-player_1", v1.version, "test");
    expect(await stack.service.pregenerate("activity-player_1")).toBe(1);
    // Each bad line is reported once with its file:line, however often the file is read for pregenerating.
    expect(await stack.service.pregenerate("activity-player_1")).toBe(1);
    expect(warnings.filter((w) => !w.startsWith("could not pregenerate"))).toEqual([
      `${file}:2: not a JSON line of {"model", "inputs"}; skipped {}`,
      `${file}:4: inputs: missing, input: unknown field; a line is {"model": NAME, "inputs": [[numbers], …]}; ` +
        `skipped {}`,
      `${file}:6: inputs[0][1]: a number (got "x"); a line is {"model": NAME, "inputs": [[numbers], …]}; skipped {}`,
    ]);
    expect(warnings.filter((w) => w.startsWith("could not pregenerate"))[0]).toContain(`"from":"${file}:5"`);
    expect((await stack.service.predict("activity-player_1", { inputs: [rows[0]!] })).cached).toBe(true);
    // Asked three times each, rows 2 and 3 are the two most requested; row 4, asked once, is not counted.
    for (const row of [rows[2]!, rows[3]!])
      for (let i = 0; i < 3; i++) await stack.service.predict("activity-player_1", { inputs: [row] });
    await stack.service.predict("activity-player_1", { inputs: [rows[4]!] });
    // A new version: nothing of v1 is valid, but the file's and the most asked inputs are ready again.
    const v2 = await stack.store.addVersion("activity-player_1", models.newer.artifact, metadataOf(models.newer));
    await stack.activator.activate("activity-player_1", v2.version, "test");
    await Bun.sleep(100);
    for (const row of [rows[0]!, rows[2]!, rows[3]!]) {
      const answer = await stack.service.predict("activity-player_1", { inputs: [row] });
      expect([answer.version, answer.cached]).toEqual([2, true]);
    }
    for (const row of [rows[4]!, rows[5]!])
      expect((await stack.service.predict("activity-player_1", { inputs: [row] })).cached).toBe(false);
    // A file the profile names but that is gone is reported once, and the most requested inputs still get ready.
    rmSync(file);
    expect(await stack.service.pregenerate("activity-player_1")).toBe(2);
    expect(await stack.service.pregenerate("activity-player_1")).toBe(2);
    expect(warnings.filter((w) => w.includes("cannot read"))).toEqual([
      expect.stringContaining(`cache.pregenerate.file: cannot read ${file} (`),
    ]);
    stack.close();
  }, 60_000);

  test("disk and tiered caches survive a restart", async () => {
    await using dir = tempDir();
    const models = await trainedModels(dir.path);
    const rows = rowsOf(models.heldOut, 2);
    for (const type of ["disk", "tiered"]) {
      const home = join(dir.path, type);
      const first = await servingStack(home, { cache: { type } });
      const v1 = await first.store.addVersion("activity-player_1", models.good.artifact, metadataOf(models.good));
      await first.activator.activate("activity-player_1", v1.version, "test");
      expect((await first.service.predict("activity-player_1", { inputs: rows })).cached).toBe(false);
      // The tiered cache writes an entry to disk once it is asked for again (disk_after: 2); one asked once stays in
      // memory.
      const once = [rows[0]!.map((x) => x + 1)];
      if (type === "tiered") {
        expect((await first.service.predict("activity-player_1", { inputs: rows })).cached).toBe(true);
        await first.service.predict("activity-player_1", { inputs: once });
      }
      await first.close();
      const second = await servingStack(home, { cache: { type } });
      const again = await second.service.predict("activity-player_1", { inputs: rows });
      expect([type, again.cached]).toEqual([type, true]);
      if (type === "tiered")
        expect((await second.service.predict("activity-player_1", { inputs: once })).cached).toBe(false);
      expect(second.service.cacheStats().entries).toBeGreaterThanOrEqual(1);
      second.service.clearCache();
      expect(second.service.cacheStats().entries).toBe(0);
      second.close();
    }
  }, 60_000);
});
