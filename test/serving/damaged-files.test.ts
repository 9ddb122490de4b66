import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EdgetrainError } from "../../runtime/errors.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import type { Logger } from "../../runtime/plugin-api.ts";
import { healActiveVersions } from "../../runtime/serving/heal-active-versions.ts";
import { openState } from "../../runtime/state/database.ts";
import { ModelStore } from "../../runtime/store/model-store.ts";
import { runCli, startDaemonProcess, tempDir } from "../helpers.ts";
import { metadataOf, servingStack, trainedModels } from "./fixture.ts";

const MODEL = "activity-player_1";

describe("files damaged behind edgetrain's back", () => {
  test("a damaged active.json is restored from the state database at open, with rollback history; the damaged file " +
    "is kept", async () => {
    await using dir = tempDir();
    const models = await trainedModels(dir.path);
    const root = join(dir.path, "models");
    const state = openState(join(dir.path, "state"));
    const store = new ModelStore(root, state.db, 2);
    for (const [version, model] of [models.good, models.newer, models.weak].entries()) {
      await store.addVersion(MODEL, model.artifact, metadataOf(model));
      await store.activate(MODEL, version + 1);
    }
    const pointer = join(root, MODEL, "active.json");
    writeFileSync(pointer, '{"version":');

    const warnings: string[] = [];
    const reopened = new ModelStore(
      root,
      state.db,
      2,
      { emit() {} },
      { info() {}, warn: (message) => void warnings.push(message) },
    );
    expect(reopened.activeVersion(MODEL)).toBe(3);
    expect(JSON.parse(readFileSync(pointer, "utf8"))).toMatchObject({ version: 3, previous: [1, 2] });
    expect(readFileSync(`${pointer}.damaged`, "utf8")).toBe('{"version":');
    expect(warnings).toEqual([
      expect.stringMatching(
        new RegExp(
          String.raw`^model activity-player_1: .*active\.json was damaged \(.+\); version 3 serves again, as the ` +
            `state ` +
            "database recorded, and rollback goes to the retired versions 1, 2",
        ),
      ),
    ]);
    expect((await reopened.rollback(MODEL, "test")).version).toBe(2);

    // Valid JSON that is not a pointer, and no activation on record: the model serves nothing, and says why.
    state.db.query("UPDATE model_versions SET status = 'retired' WHERE model = ? AND status = 'active'").run(MODEL);
    writeFileSync(pointer, '{"version": "two", "previous": []}');
    warnings.length = 0;
    const third = new ModelStore(
      root,
      state.db,
      2,
      { emit() {} },
      { info() {}, warn: (message) => void warnings.push(message) },
    );
    expect(third.activeVersion(MODEL)).toBeUndefined();
    expect(warnings).toEqual([
      expect.stringContaining(
        "is damaged (version is not a version number) and the state database names no version on disk",
      ),
    ]);
    expect(existsSync(pointer)).toBe(false);

    // No pointer at all (as now, or before a first activation) is no damage.
    warnings.length = 0;
    new ModelStore(root, state.db, 2, { emit() {} }, { info() {}, warn: (message) => void warnings.push(message) });
    expect(warnings).toEqual([]);
    state.close();
  }, 60_000);

  test("the CLI repairs a damaged pointer too, and says so on stderr", async () => {
    await using dir = tempDir();
    const models = await trainedModels(dir.path);
    const home = join(dir.path, "home");
    const state = openState(join(home, "state"));
    const store = new ModelStore(join(home, "models"), state.db, 3);
    await store.addVersion(MODEL, models.good.artifact, metadataOf(models.good));
    await store.activate(MODEL, 1);
    state.close();
    writeFileSync(join(home, "models", MODEL, "active.json"), "");

    const listed = await runCli(["models", "--home", home, "--json"], { home: dir.path });
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ model: MODEL, active: 1 })]);
    expect(listed.stderr).toMatch(
      new RegExp(
        String.raw`^warning: model activity-player_1: .*active\.json was damaged \(.+\); version 1 serves again, as ` +
          `the ` +
          "state database recorded, and there is no earlier version to roll back to",
        "m",
      ),
    );
  }, 60_000);

  test("with a fresh state database, a damaged version.json leaves that version out of the index instead of failing " +
    "the start", async () => {
    await using dir = tempDir();
    const models = await trainedModels(dir.path);
    const root = join(dir.path, "models");
    const state = openState(join(dir.path, "state"));
    const store = new ModelStore(root, state.db, 3);
    await store.addVersion(MODEL, models.good.artifact, metadataOf(models.good));
    await store.addVersion(MODEL, models.newer.artifact, metadataOf(models.newer));
    state.close();
    writeFileSync(join(root, MODEL, "2", "version.json"), '{"job":');

    const fresh = openState(join(dir.path, "fresh-state"));
    const warnings: string[] = [];
    const reindexed = new ModelStore(
      root,
      fresh.db,
      3,
      { emit() {} },
      { info() {}, warn: (message) => void warnings.push(message) },
    );
    expect(reindexed.versions(MODEL).map((v) => v.version)).toEqual([1]);
    expect(warnings).toEqual([
      expect.stringMatching(
        new RegExp(
          String.raw`^model activity-player_1 version 2: .*version\.json is damaged \(.+\); ` +
            "the version is left out of the list and cannot be activated$",
        ),
      ),
      expect.stringContaining(
        "it was rebuilt from the models folder, 1 version of 1 model indexed again; serving as before: none.",
      ),
    ]);
    // Its number stays taken: the next version does not overwrite the damaged folder.
    expect((await reindexed.addVersion(MODEL, models.weak.artifact, metadataOf(models.weak))).version).toBe(3);
    fresh.close();
  }, 60_000);

  test("a predict whose active version's file no longer loads gets model_unavailable (503) naming the file, logged " +
    "once", async () => {
    await using dir = tempDir();
    const models = await trainedModels(dir.path);
    const home = join(dir.path, "home");
    const first = await servingStack(home);
    const version = await first.store.addVersion(MODEL, models.good.artifact, metadataOf(models.good));
    await first.store.activate(MODEL, 1);
    await first.close();
    // Half of the file, as a failing disk or a careless copy leaves it; the next start loads it lazily.
    const bytes = readFileSync(version.path);
    writeFileSync(version.path, bytes.subarray(0, bytes.length >> 1));

    const errors: Array<{ message: string; fields?: Record<string, unknown> }> = [];
    const logger: Logger = {
      ...silentLogger,
      error: (message, fields) => void errors.push({ message, fields }),
      child: () => logger,
    };
    const stack = await servingStack(home, {}, undefined, undefined, logger);
    const row = Array.from(models.heldOut.x.slice(0, 16));
    for (let attempt = 0; attempt < 2; attempt++) {
      const error = await stack.service.predict(MODEL, { inputs: [row] }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(EdgetrainError);
      expect(error).toMatchObject({
        code: "model_unavailable",
        httpStatus: 503,
        details: { model: MODEL, version: 1, file: version.path },
      });
      expect((error as EdgetrainError).message).toContain(`${version.path} does not load in ONNX Runtime`);
      expect((error as EdgetrainError).hint).toContain(`edgetrain rollback ${MODEL}`);
    }
    expect(errors).toEqual([
      {
        message: expect.stringContaining("the active model version does not load"),
        fields: expect.objectContaining({ model: MODEL, version: 1, error: expect.stringContaining(version.path) }),
      },
    ]);
    await stack.close();
  }, 60_000);

  test("a damaged active version is replaced before serving by the newest intact one, logged at error " +
    "level", async () => {
    await using dir = tempDir();
    const models = await trainedModels(dir.path);
    const home = join(dir.path, "home");
    const first = await servingStack(home);
    const v1 = await first.store.addVersion(MODEL, models.good.artifact, metadataOf(models.good));
    await first.store.activate(MODEL, 1);
    // Left as candidates, as a gate that could not score version 1 left them; version 3 is damaged too.
    await first.store.addVersion(MODEL, models.newer.artifact, metadataOf(models.newer));
    const v3 = await first.store.addVersion(MODEL, models.weak.artifact, metadataOf(models.weak));
    await first.close();
    truncateSync(v1.path, 100);
    writeFileSync(v3.path, "changed by hand");

    const errors: Array<{ message: string; fields?: Record<string, unknown> }> = [];
    const logger: Logger = {
      ...silentLogger,
      error: (message, fields) => void errors.push({ message, fields }),
      child: () => logger,
    };
    const stack = await servingStack(home, {}, undefined, undefined, logger);
    expect(await healActiveVersions(stack.store, stack.activator, logger)).toEqual([MODEL]);
    expect(stack.store.activeVersion(MODEL)).toBe(2);
    expect(errors).toEqual([
      {
        message:
          `model ${MODEL}: the active version 1 is damaged (${v1.path} does not match its sha256 (damaged or ` +
          `changed by hand)); version 2, the newest intact one that passes its health check, serves instead`,
        fields: { model: MODEL, damaged_version: 1, file: v1.path, version: 2 },
      },
    ]);
    const row = Array.from(models.heldOut.x.slice(0, 16));
    expect((await stack.service.predict(MODEL, { inputs: [row] })).version).toBe(2);
    // Whole now: a second start changes nothing.
    errors.length = 0;
    expect(await healActiveVersions(stack.store, stack.activator, logger)).toEqual([]);
    expect(errors).toEqual([]);
    await stack.close();
  }, 60_000);

  test("rollback walks past a damaged earlier version; with none intact, its error names what can serve " +
    "instead", async () => {
    await using dir = tempDir();
    const models = await trainedModels(dir.path);
    const home = join(dir.path, "home");
    const state = openState(join(home, "state"));
    const store = new ModelStore(join(home, "models"), state.db, 3);
    for (const model of [models.good, models.newer, models.weak]) {
      const added = await store.addVersion(MODEL, model.artifact, metadataOf(model));
      await store.activate(MODEL, added.version);
    }
    const v4 = await store.addVersion(MODEL, models.newer.artifact, metadataOf(models.newer));
    truncateSync(store.version(MODEL, 2)!.path, 50);
    // Versions 1 and 2 served before 3; 2 is damaged, so the rollback goes to 1.
    expect(await store.rollbackTarget(MODEL)).toBe(1);
    expect((await store.rollback(MODEL, "test")).version).toBe(1);
    expect(store.version(MODEL, 3)!.status).toBe("rolled_back");
    expect((await store.intactVersions(MODEL)).map((v) => v.version)).toEqual([4, 3, 1]);

    // Version 3 served, then version 1 again; with 1 damaged there is nothing to go back to, but 4 and 3 are whole.
    await store.activate(MODEL, 3);
    truncateSync(store.version(MODEL, 1)!.path, 50);
    state.close();
    const rollback = await runCli(["rollback", MODEL, "--home", home], { home: dir.path });
    expect(rollback.code).not.toBe(0);
    expect(rollback.stderr).toContain(
      `model ${MODEL} has no intact earlier version to roll back to (version 1 is damaged or gone); intact versions ` +
        `it can serve instead: 4 (candidate)`,
    );
    expect(rollback.stderr).toContain(`edgetrain activate ${MODEL} 4`);
    expect(v4.version).toBe(4);
  }, 60_000);

  test("a deleted active.json is restored from the state database at open, with a warning", async () => {
    await using dir = tempDir();
    const models = await trainedModels(dir.path);
    const root = join(dir.path, "models");
    const state = openState(join(dir.path, "state"));
    const store = new ModelStore(root, state.db, 3);
    for (const [version, model] of [models.good, models.newer].entries()) {
      await store.addVersion(MODEL, model.artifact, metadataOf(model));
      await store.activate(MODEL, version + 1);
    }
    const pointer = join(root, MODEL, "active.json");
    rmSync(pointer);

    const warnings: string[] = [];
    const reopened = new ModelStore(
      root,
      state.db,
      3,
      { emit() {} },
      { info() {}, warn: (message) => void warnings.push(message) },
    );
    expect(reopened.activeVersion(MODEL)).toBe(2);
    expect(JSON.parse(readFileSync(pointer, "utf8"))).toMatchObject({ version: 2, previous: [1] });
    expect(warnings).toEqual([
      `model ${MODEL}: ${pointer} was missing; version 2 serves again, as the state database recorded, and rollback ` +
        `goes to the retired versions 1`,
    ]);

    // A withdrawal (a first version failing its health check) removes the pointer on purpose: nothing to restore,
    // its version is marked rolled back before the pointer goes.
    await reopened.withdraw(MODEL, "test");
    warnings.length = 0;
    expect(
      new ModelStore(
        root,
        state.db,
        3,
        { emit() {} },
        { info() {}, warn: (message) => void warnings.push(message) },
      ).activeVersion(MODEL),
    ).toBeUndefined();
    expect(warnings).toEqual([]);
    expect(
      state.db.query("SELECT version FROM model_versions WHERE model = ? AND status = 'active'").get(MODEL),
    ).toBeNull();
    state.close();
  }, 60_000);

  test("with the state database deleted, the store says it was rebuilt from the models folder and what " +
    "serves", async () => {
    await using dir = tempDir();
    const models = await trainedModels(dir.path);
    const root = join(dir.path, "models");
    const state = openState(join(dir.path, "state"));
    const store = new ModelStore(root, state.db, 3);
    for (const model of [models.good, models.newer]) await store.addVersion(MODEL, model.artifact, metadataOf(model));
    await store.activate(MODEL, 1);
    await store.activate(MODEL, 2);
    await store.addVersion("activity-player_2", models.good.artifact, metadataOf(models.good, "activity", "player_2"));
    state.close();
    rmSync(join(dir.path, "state"), { recursive: true });

    const fresh = openState(join(dir.path, "state"));
    const warnings: string[] = [];
    const rebuilt = new ModelStore(
      root,
      fresh.db,
      3,
      { emit() {} },
      { info() {}, warn: (message) => void warnings.push(message) },
    );
    expect(warnings).toEqual([
      `the state database had no record of the models in ${root} (it is new, or was deleted): it was rebuilt from ` +
        `the models folder, 3 versions of 2 models indexed again; serving as before: ${MODEL} version 2. Run ` +
        `history, trigger state and events from before are gone: triggers start from what they see now`,
    ]);
    // Listed as they were: the version that served before is retired, not a candidate.
    expect(rebuilt.versions(MODEL).map((v) => [v.version, v.status])).toEqual([
      [2, "active"],
      [1, "retired"],
    ]);
    // Once rebuilt, a second open has nothing to say.
    warnings.length = 0;
    new ModelStore(root, fresh.db, 3, { emit() {} }, { info() {}, warn: (message) => void warnings.push(message) });
    expect(warnings).toEqual([]);
    fresh.close();
  }, 60_000);

  test("a daemon heals at start: a damaged active version, then a deleted state database, then a deleted " +
    "active.json", async () => {
    await using dir = tempDir();
    const models = await trainedModels(dir.path);
    const home = join(dir.path, "home");
    const first = await servingStack(home);
    const v1 = await first.store.addVersion(MODEL, models.good.artifact, metadataOf(models.good));
    await first.store.activate(MODEL, 1);
    await first.store.addVersion(MODEL, models.newer.artifact, metadataOf(models.newer));
    await first.close();
    truncateSync(v1.path, 100);
    const row = Array.from(models.heldOut.x.slice(0, 16));
    type Line = { level: string; msg: string; [field: string]: unknown };
    const logLines = () =>
      readFileSync(join(home, "logs/edgetrain.log"), "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as Line);
    const started = async () => {
      const daemon = await startDaemonProcess(home, ["--home", home, "--headless"]);
      try {
        const answer = await fetch(`${daemon.url}/v1/predict/${MODEL}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ inputs: [row] }),
        });
        return { status: answer.status, body: (await answer.json()) as { version?: number } };
      } finally {
        daemon.proc.kill("SIGTERM");
        await daemon.proc.exited;
      }
    };

    expect(await started()).toMatchObject({ status: 200, body: { version: 2 } });
    expect(logLines().filter((line) => line.level === "error")).toEqual([
      expect.objectContaining({
        msg: expect.stringContaining(
          `model ${MODEL}: the active version 1 is damaged (${v1.path} does not match its sha256`,
        ),
        damaged_version: 1,
        file: v1.path,
        version: 2,
      }),
    ]);

    rmSync(join(home, "state"), { recursive: true });
    expect(await started()).toMatchObject({ status: 200, body: { version: 2 } });
    expect(
      logLines()
        .filter((line) => line.level === "warn")
        .map((line) => line.msg),
    ).toContainEqual(
      expect.stringContaining(
        `it was rebuilt from the models folder, 2 versions of 1 model indexed again; serving as before: ${MODEL} ` +
          `version 2.`,
      ),
    );

    rmSync(join(home, "models", MODEL, "active.json"));
    expect(await started()).toMatchObject({ status: 200, body: { version: 2 } });
    expect(
      logLines()
        .filter((line) => line.level === "warn")
        .map((line) => line.msg),
    ).toContainEqual(
      expect.stringContaining(`active.json was missing; version 2 serves again, as the state database recorded`),
    );
  }, 120_000);
});
