import { expect, test } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DaemonStatus, ModelDetail } from "../../runtime/api/contract.ts";
import { FileCopies } from "../../runtime/deploy/file-copies.ts";
import { EventBus } from "../../runtime/events/bus.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import { openState } from "../../runtime/state/database.ts";
import { runCli, startDaemonProcess, tempDir, waitUntil } from "../helpers.ts";
import { testProfile, trainedModels } from "../serving/fixture.ts";

/**
 * A trainer that writes the model the test names in `next-model`, and starts the predictor `live` (copies
 * `live.next`, naming a live pid, to the lockfile `live.lock`) when the test left one: the predictor comes
 * up while the job trains, so the copy meets it. Its copy waits max_wait, then is pending.
 */
function writeHome(home: string) {
  writeFileSync(
    join(home, "trainer.sh"),
    `[ -f ${home}/live.next ] && cp ${home}/live.next ${home}/live.lock
cp ${home}/fixtures/runs/$(cat ${home}/next-model)/model.onnx "$EDGETRAIN_RUN_DIR/model.onnx"
echo '{"event":"artifact","path":"model.onnx","metrics":{"accuracy":0.9}}'
`,
  );
  const profile = join(home, "profile.yaml");
  writeFileSync(
    profile,
    `paths: { home: ${home} }
governor: { sample_interval: 100ms, max_cpu_before: 100, max_memory_before: 100, pause_cpu: 100, pause_memory: 100 }
conflicts:
  predictors: [{ name: live, lockfile: live.lock }]
  check_interval: 200ms
  max_wait: 1s
jobs:
  activity:
    strategy: command
    options: { command: [sh, ${join(home, "trainer.sh")}] }
    constraints: { not_during: [live], on_conflict: wait }
    deploy: [activate, { type: copy-to-dir, dir: updated, previous_dir: previous }]
`,
  );
  return profile;
}

/** A daemon on writeHome's profile, over real models, and what its tests ask it. */
async function startCopyingDaemon(home: string) {
  // Three distinct real models; the trainer hands over the one named in next-model.
  await trainedModels(join(home, "fixtures"));
  const { proc, url } = await startDaemonProcess(home, ["--home", home, "--headless", "--profile", writeHome(home)]);
  const token = readFileSync(join(home, "api.token"), "utf8").trim();
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const post = (path: string, body: unknown = {}) =>
    fetch(url + path, { method: "POST", headers, body: JSON.stringify(body) });
  const get = async <T>(path: string) => (await (await fetch(url + path, { headers })).json()) as T;
  const model = "activity";
  /** Queues a run of the named model and waits until it is the model's version `version`. */
  const train = async (version: number, fixture: "good" | "newer" | "weak") => {
    writeFileSync(join(home, "next-model"), fixture);
    await post("/v1/jobs/activity/run");
    const has = async () =>
      (await get<ModelDetail>(`/v1/models/${model}`)).versions?.some((v) => v.version === version);
    await waitUntil(async () => (await has()) ?? false, 30_000);
    await waitUntil(async () => (await get<DaemonStatus>("/v1/status")).running === 0, 30_000);
  };
  return {
    proc,
    post,
    model,
    train,
    file: (version: number) => readFileSync(join(home, "models", model, String(version), "model.onnx")),
    updated: join(home, "updated/activity.onnx"),
    previous: join(home, "previous/activity.onnx"),
    pending: async () => (await get<DaemonStatus>("/v1/status")).copies,
  };
}

/**
 * The copy events of the home's decisions, oldest first (`copy.written 2`, `copy.pending 1 restore`), with
 * any run deferred for predictors: no run waits for them here, and a copy's wait is not one (its run is over).
 */
async function copyEventsOf(home: string): Promise<string[]> {
  const decisions = await runCli(["decisions", "--home", home, "--json"], { home });
  type Decision = { type: string; version?: number; restore?: boolean; reason?: string };
  const forPredictors = (d: Decision) => d.type === "run.deferred" && d.reason?.startsWith("waiting up to");
  return (JSON.parse(decisions.stdout) as Decision[])
    .filter((d) => d.type.startsWith("copy.") || forPredictors(d))
    .map((d) => `${d.type} ${d.version}${d.restore ? " restore" : ""}`)
    .reverse();
}

test("a held-up copy is pending, in status, and written once predictors go quiet; rollbacks restore", async () => {
  await using dir = tempDir();
  const home = dir.path;
  const { proc, post, model, train, file, updated, previous, pending } = await startCopyingDaemon(home);
  const live = join(home, "live.lock");
  const liveNext = join(home, "live.next");
  try {
    // Nothing live: v1, then v2 are written, the file v2 replaced kept in previous/.
    await train(1, "good");
    await train(2, "newer");
    expect(readFileSync(updated)).toEqual(file(2));
    expect(readFileSync(previous)).toEqual(file(1));

    // A rollback of the model puts the replaced file back in place.
    expect((await post(`/v1/models/${model}/rollback`)).status).toBe(200);
    await waitUntil(() => readFileSync(updated).equals(file(1)));

    // live comes up while v3 trains: its copy gives up waiting after max_wait and stays pending, the file untouched.
    writeFileSync(liveNext, String(process.pid));
    await train(3, "weak");
    const copies = await pending();
    const held = { model, version: 3, job: "activity", target: updated, restore: false, attempts: 0 };
    expect(copies).toMatchObject([held]);
    // The step's own wait, or a retry's if the daemon retried before this read.
    expect(copies[0]!.reason).toMatch(/^(gave up after 1s: live|waiting for live) \(lockfile pid \d+/);
    expect(readFileSync(updated)).toEqual(file(1));
    const shown = await runCli(["status", "--home", home], { home });
    const listed = `pending copies (1), retried when their predictors go quiet:\n  ${model} version 3 → ${updated}`;
    expect(shown.stdout).toContain(listed);
    // The step's wait for live is the copy's, said as such, not a deferral of the run that made version 3.
    const log = readFileSync(join(home, "logs/edgetrain.log"), "utf8");
    expect(log).toContain(
      `the copy of model ${model} version 3 to ${updated} is waiting up to 1s for live (lockfile pid`,
    );

    // The predictor goes quiet: v3 is written at the next retry, the file it replaced kept.
    rmSync(liveNext);
    rmSync(live);
    await waitUntil(async () => (await pending()).length === 0);
    expect(readFileSync(updated)).toEqual(file(3));
    expect(readFileSync(previous)).toEqual(file(1));

    // A rollback while live predicts: the restore waits too, shown as such, and is done once it goes.
    writeFileSync(live, String(process.pid));
    expect((await post(`/v1/models/${model}/rollback`)).status).toBe(200);
    await waitUntil(async () => (await pending()).length === 1);
    expect((await pending())[0]).toMatchObject({ model, version: 1, restore: true, target: updated });
    expect(readFileSync(updated)).toEqual(file(3));
    rmSync(live);
    await waitUntil(async () => (await pending()).length === 0);
    expect(readFileSync(updated)).toEqual(file(1));
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
  expect(await copyEventsOf(home)).toEqual([
    "copy.written 1",
    "copy.written 2",
    "copy.written 1 restore",
    "copy.waiting 3",
    "copy.pending 3",
    "copy.written 3",
    "copy.pending 1 restore",
    "copy.written 1 restore",
  ]);
}, 120_000);

test("an activation by any road supersedes what waits for the folder and puts the serving version there", async () => {
  await using dir = tempDir();
  const home = dir.path;
  const { proc, post, model, train, file, updated, previous, pending } = await startCopyingDaemon(home);
  // A real predictor process, named by the lockfile: live while it runs, quiet once stopped.
  const predictor = Bun.spawn(["sleep", "600"]);
  const activate = async (version: number) =>
    expect((await post(`/v1/models/${model}/activate`, { version })).status).toBe(200);
  try {
    await train(1, "good");
    await train(2, "newer");
    expect(readFileSync(updated)).toEqual(file(2));

    // A rollback while the predictor runs: putting version 1's file back waits for it.
    writeFileSync(join(home, "live.lock"), String(predictor.pid));
    expect((await post(`/v1/models/${model}/rollback`)).status).toBe(200);
    await waitUntil(async () => (await pending()).length === 1);
    expect((await pending())[0]).toMatchObject({ model, version: 1, restore: true, target: updated });

    // Version 2 serves again: the folder holds it still, so the restore is superseded and nothing waits.
    await activate(2);
    expect(await pending()).toEqual([]);

    // Version 1 serves: its file from the store waits for the predictor; the folder keeps version 2 meanwhile.
    await activate(1);
    expect(await pending()).toMatchObject([{ model, version: 1, restore: false, target: updated }]);
    expect(readFileSync(updated)).toEqual(file(2));

    // The predictor stops: version 1 is written, the file it replaced kept for a rollback.
    predictor.kill();
    await predictor.exited;
    await waitUntil(async () => (await pending()).length === 0);
    expect(readFileSync(updated)).toEqual(file(1));
    expect(readFileSync(previous)).toEqual(file(2));

    // An import's deploy (gate, then activate: no copy-to-dir of its own) puts the version it activates there too.
    const imported = join(home, "fixtures/runs/weak/model.onnx");
    const added = await runCli(["models", "add", model, imported, "--activate", "--home", home], { home });
    expect(added).toMatchObject({ code: 0 });
    expect(readFileSync(updated)).toEqual(file(3));
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
    predictor.kill();
  }
  // Without a daemon, activate and rollback keep the folder on the serving version as well.
  expect(await runCli(["activate", model, "2", "--home", home], { home })).toMatchObject({ code: 0 });
  expect(readFileSync(updated)).toEqual(file(2));
  expect(await runCli(["rollback", model, "--home", home], { home })).toMatchObject({ code: 0 });
  expect(readFileSync(updated)).toEqual(file(3));
  expect(await copyEventsOf(home)).toEqual([
    "copy.written 1",
    "copy.written 2",
    "copy.pending 1 restore",
    "copy.superseded 1 restore",
    "copy.pending 1",
    "copy.written 1",
    "copy.written 3",
    "copy.written 2",
    "copy.written 3 restore",
  ]);
}, 120_000);

test("a newer copy to a file supersedes a pending one; retries wait for quiet, give up on a gone source", async () => {
  await using dir = tempDir();
  const lockfile = dir.write("live.lock", String(process.pid));
  const profile = testProfile(dir.path, {
    conflicts: { predictors: [{ name: "live", lockfile }] },
    jobs: { activity: { strategy: "random-forest", constraints: { not_during: ["live"] } } },
  });
  const state = openState(join(dir.path, "state"));
  const bus = new EventBus();
  const seen: string[] = [];
  bus.subscribe((event) => void seen.push(`${event.type} ${"version" in event.data ? event.data.version : ""}`));
  const versions = () => ({ activeVersion: () => undefined, version: () => undefined });
  const parts = { state, profile: () => profile, home: dir.path, logger: silentLogger, events: bus, versions };
  const copies = new FileCopies(parts);
  const target = dir.write("updated/player_1.onnx", "v1");
  const previous = join(dir.path, "previous/player_1.onnx");
  const source = (version: number) => dir.write(`store/${version}.onnx`, `v${version}`);
  const copy = (version: number) => ({
    model: "activity-player_1",
    version,
    job: "activity",
    key: "player_1",
    kind: "copy" as const,
    source: source(version),
    target,
    previous,
  });
  const held = { clear: false, message: "gave up after 5m: live (lockfile) still predicting" };
  try {
    expect(copies.place(copy(2), held)).toMatchObject({ written: false, pending: true });
    expect(copies.place(copy(3), held).message).toBe(
      `${target} pending (gave up after 5m: live (lockfile) still predicting); retried when its predictors go quiet`,
    );
    expect(copies.pending().map((c) => c.version)).toEqual([3]);
    expect(seen).toEqual(["copy.pending 2", "copy.superseded 2", "copy.pending 3"]);

    // Still live: nothing written; the reason says what it waits for.
    expect(copies.retry()).toBe(0);
    expect(copies.pending()[0]!.reason).toBe(`waiting for live (lockfile pid ${process.pid}) to go quiet`);
    expect(readFileSync(target, "utf8")).toBe("v1");

    // Quiet: written, with the file it replaced kept.
    rmSync(lockfile);
    expect(copies.retry()).toBe(1);
    expect([readFileSync(target, "utf8"), readFileSync(previous, "utf8")]).toEqual(["v3", "v1"]);
    expect(copies.pending()).toEqual([]);

    // A source gone before its copy could be written (its version pruned): given up, and said so.
    writeFileSync(lockfile, String(process.pid));
    copies.place(copy(4), held);
    rmSync(source(4));
    rmSync(lockfile);
    expect(copies.retry()).toBe(0);
    expect(copies.pending()).toEqual([]);
    expect(readFileSync(target, "utf8")).toBe("v3");
  } finally {
    state.close();
  }
});

test("without a kept file, a rollback puts the version rolled back to there from the store", async () => {
  await using dir = tempDir();
  const profile = testProfile(dir.path, { jobs: { activity: { strategy: "random-forest" } } });
  const state = openState(join(dir.path, "state"));
  const logged: string[] = [];
  const logger = { ...silentLogger, warn: (message: string) => void logged.push(message) };
  const store = (version: number) => join(dir.path, `store/${version}.onnx`);
  const versions = () => ({
    activeVersion: () => undefined,
    version: (_model: string, version: number) => ({ path: store(version) }),
  });
  const parts = { state, profile: () => profile, home: dir.path, logger, events: new EventBus(), versions };
  const copies = new FileCopies(parts);
  const target = join(dir.path, "updated/activity.onnx");
  for (const version of [1, 2]) dir.write(`store/${version}.onnx`, `v${version}`);
  const copy = { model: "activity", version: 2, job: "activity", kind: "copy" as const, source: store(2), target };
  try {
    expect(copies.place(copy, { clear: true })).toMatchObject({ written: true });
    copies.rolledBack("activity", 2, 1);
    expect(readFileSync(target, "utf8")).toBe("v1");

    // Its file gone from the store too: the folder keeps what it has, and the log says why.
    rmSync(store(2));
    copies.activated("activity", 2);
    expect(readFileSync(target, "utf8")).toBe("v1");
    expect(logged).toEqual([`model activity version 2 serves, but ${target} keeps version 1: ${store(2)} is gone`]);
  } finally {
    state.close();
  }
});
