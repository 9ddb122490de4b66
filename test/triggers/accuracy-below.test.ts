import { expect, test } from "bun:test";
import { join } from "node:path";
import accuracyBelow from "../../plugins/triggers/accuracy-below.ts";
import { resolveProfile } from "../../runtime/config/validate-profile.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import type { TriggerFire } from "../../runtime/plugin-api.ts";
import { memoryStore } from "../../runtime/plugins/context.ts";
import { instantiate } from "../../runtime/plugins/instantiate.ts";
import { registryOf } from "../../runtime/plugins/registry.ts";
import { openState } from "../../runtime/state/database.ts";
import { JobRunner } from "../../runtime/training/job-runner.ts";
import { FakeClock } from "../fake-clock.ts";
import { tempDir, testEnvironment, waitUntil } from "../helpers.ts";

/** hr decides the activity: walk under 100, run above; `flipped` is a sensor that went wrong. */
const session = (flipped = false) =>
  "hr,label\n" +
  Array.from({ length: 200 }, (_, i) => {
    const hr = 60 + (i % 80);
    return `${hr},${(hr < 100) !== flipped ? "walk" : "run"}`;
  }).join("\n") +
  "\n";

test("accuracy-below scores the latest model on sessions it has not trained on, in ONNX Runtime, and fires only when " +
  "worse", async () => {
  await using dir = tempDir();
  const home = join(dir.path, "home");
  for (let n = 1; n <= 3; n++) dir.write(`home/data/athletes/player_1/TR${n}_x.csv`, session());
  const file = dir.write(
    "home/profile.yaml",
    `paths:\n  home: ${home}\njobs:\n  activity:\n    strategy: random-forest\n    options: { n_estimators: 10 }\n   ` +
      ` data: { source: sessions, path: athletes, debounce: 0 }\n`,
  );
  const resolved = await resolveProfile(file, testEnvironment(dir.path));
  const state = openState(resolved.paths!.state);
  const runner = new JobRunner({
    profile: resolved.profile!,
    paths: resolved.paths!,
    registry: resolved.registry,
    state,
    logger: silentLogger,
  });
  try {
    expect((await runner.run({ job: "activity", trigger: "test" }))[0]!.status).toBe("succeeded");
    const clock = new FakeClock(0);
    const fires: TriggerFire[] = [];
    const store = memoryStore();
    const hooks = await instantiate(
      "trigger",
      "accuracy-below",
      { below: 0.85, min_rows: 50, check_every: "10m" },
      {
        plugins: registryOf([accuracyBelow]),
        logger: silentLogger,
        paths: resolved.paths!,
        clock,
        store,
        job: {
          name: "activity",
          data: {},
          keys: () => runner.keysOf("activity"),
          lastSuccess: (key) => runner.lastSuccess("activity", key),
          scoreLatest: (key) => runner.scoreActive("activity", key),
          activeVersion: () => undefined,
        },
      },
    );
    const scored = () => JSON.stringify(store.get<Record<string, string>>("scored") ?? {});
    /** The next check, awaited until it scored new data (or, with `expectNothing`, given 300 ms to do nothing). */
    const check = async (expectNothing = false) => {
      const before = scored();
      clock.advance(10 * 60_000);
      if (expectNothing) await Bun.sleep(300);
      else await waitUntil(() => scored() !== before, 30_000);
    };
    const stop = hooks.watch((fire) => void fires.push(fire))!;
    await Bun.sleep(300);
    expect(fires).toEqual([]); // nothing newer than TR3 yet

    dir.write("home/data/athletes/player_1/TR4_x.csv", session());
    await check();
    expect(fires).toEqual([]); // TR4 looks like what it learned: accuracy high
    expect(Object.keys(store.get<Record<string, string>>("scored")!)).toEqual(["player_1"]);

    dir.write("home/data/athletes/player_1/TR5_x.csv", session(true));
    await check();
    expect(fires).toHaveLength(1);
    expect(fires[0]!.keys).toEqual(["player_1"]);
    expect(fires[0]!.reason).toMatch(
      /^model worse on new data: player_1: accuracy 0\.\d{3} on 400 new rows \(TR4_x\.csv, TR5_x\.csv\)$/,
    );
    await check(true);
    expect(fires).toHaveLength(1); // the same data is not scored twice
    stop();
  } finally {
    state.close();
  }
}, 60_000);
