import { describe, expect, test } from "bun:test";
import { utimesSync } from "node:fs";
import newDataTrigger from "../../plugins/triggers/new-data.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import type { Logger, PluginStore, TriggerFire } from "../../runtime/plugin-api.ts";
import { memoryStore, systemClock } from "../../runtime/plugins/context.ts";
import { instantiate } from "../../runtime/plugins/instantiate.ts";
import { registryOf } from "../../runtime/plugins/registry.ts";
import { FakeClock } from "../fake-clock.ts";
import { pathsIn, tempDir } from "../helpers.ts";

const plugins = registryOf([newDataTrigger]);

async function watch(
  dataRoot: string,
  data: Record<string, unknown>,
  options: Record<string, unknown>,
  store: PluginStore = memoryStore(),
) {
  const fires: Array<TriggerFire & { at: number }> = [];
  const hooks = await instantiate("trigger", "new-data", options, {
    plugins,
    logger: silentLogger,
    paths: pathsIn(dataRoot),
    clock: systemClock,
    store,
    job: {
      name: "activity",
      data,
      keys: async () => [],
      lastSuccess: () => undefined,
      scoreLatest: async () => undefined,
      activeVersion: () => undefined,
    },
  });
  const stop = hooks.watch((fire) => void fires.push({ ...fire, at: Date.now() }))!;
  return { fires, stop };
}

const sessions = { source: "sessions", path: "athletes" };

describe("new-data trigger (real files, polling)", () => {
  test("fires only for the key whose files changed, once the writes have been quiet for debounce", async () => {
    await using dir = tempDir();
    for (const player of ["player_1", "player_2", "player_3"])
      dir.write(`athletes/${player}/TR1_a.csv`, "a,label\n1,x\n");
    const { fires, stop } = await watch(dir.path, sessions, { poll: "100ms", debounce: "400ms" });
    try {
      await Bun.sleep(300);
      expect(fires).toEqual([]); // existing files are the baseline
      // A session file arrives in pieces, like a copy over the network.
      const file = dir.write("athletes/player_2/TR2_b.csv", "a,label\n");
      const started = Date.now();
      for (let i = 0; i < 5; i++) {
        await Bun.sleep(120);
        await Bun.write(file, `${await Bun.file(file).text()}${i},x\n`);
      }
      const lastWrite = Date.now();
      while (fires.length === 0 && Date.now() - started < 5000) await Bun.sleep(20);
      expect(fires.map((f) => f.keys)).toEqual([["player_2"]]);
      expect(fires[0]!.at - lastWrite).toBeGreaterThanOrEqual(350);
      expect(fires[0]!.at - lastWrite).toBeLessThan(400 + 100 + 1000);
      expect(fires[0]!.reason).toBe("new data for player_2");
      await Bun.sleep(700);
      expect(fires).toHaveLength(1);
    } finally {
      stop();
    }
  });

  test("a change made while edgetrain was down fires at start; an unchanged folder does not", async () => {
    await using dir = tempDir();
    dir.write("athletes/player_1/TR1_a.csv", "a,label\n1,x\n");
    const store = memoryStore();
    (await watch(dir.path, sessions, { poll: "100ms", debounce: "0s" }, store)).stop();
    const file = dir.write("athletes/player_1/TR1_a.csv", "a,label\n1,x\n2,y\n");
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const back = await watch(dir.path, sessions, { poll: "100ms", debounce: "0s" }, store);
    await Bun.sleep(250);
    back.stop();
    expect(back.fires.map((f) => f.keys)).toEqual([["player_1"]]);
    const again = await watch(dir.path, sessions, { poll: "100ms", debounce: "0s" }, store);
    await Bun.sleep(250);
    again.stop();
    expect(again.fires).toEqual([]);
  });

  test("rows sources: key_from file fires per file, otherwise for the whole job", async () => {
    await using dir = tempDir();
    dir.write("prices/AAPL.csv", "p,label\n1,2\n");
    dir.write("prices/MSFT.csv", "p,label\n1,2\n");
    const perFile = await watch(
      dir.path,
      { source: "rows", path: "prices", key_from: "file" },
      { poll: "50ms", debounce: "0s" },
    );
    const whole = await watch(dir.path, { source: "rows", path: "prices" }, { poll: "50ms", debounce: "0s" });
    dir.write("prices/MSFT.csv", "p,label\n1,2\n3,4\n");
    await Bun.sleep(300);
    perFile.stop();
    whole.stop();
    expect(perFile.fires.map((f) => f.keys)).toEqual([["MSFT"]]);
    expect(whole.fires.map((f) => f.keys)).toEqual([undefined]);
  });
});

describe("new-data trigger and the data source's debounce", () => {
  type Section = Record<string, unknown>;
  async function watchOn(dataRoot: string, data: Section, options: Section, clock: FakeClock) {
    const fires: TriggerFire[] = [];
    const warnings: string[] = [];
    const logger: Logger = { ...silentLogger, warn: (message) => void warnings.push(message), child: () => logger };
    const job = {
      name: "activity",
      data,
      keys: async () => [],
      lastSuccess: () => undefined,
      scoreLatest: async () => undefined,
      activeVersion: () => undefined,
    };
    const paths = pathsIn(dataRoot);
    const hooks = await instantiate("trigger", "new-data", options, { plugins, logger, paths, clock, job });
    const stop = hooks.watch((fire) => void fires.push(fire))!;
    return { fires, warnings, stop };
  }

  test("a change fires once it kept still for data.debounce, the wait the data loader makes", async () => {
    await using dir = tempDir();
    dir.write("athletes/player_1/TR1_a.csv", "a,label\n1,x\n");
    const clock = new FakeClock(Date.now());
    const data = { ...sessions, debounce: "2s" };
    const { fires, warnings, stop } = await watchOn(dir.path, data, { poll: "100ms" }, clock);
    try {
      dir.write("athletes/player_1/TR2_b.csv", "a,label\n1,x\n");
      clock.advance(1500);
      expect(fires).toEqual([]);
      clock.advance(1000);
      expect(fires.map((f) => f.keys)).toEqual([["player_1"]]);
      expect(warnings).toEqual([]);
    } finally {
      stop();
    }
  });

  test("the trigger's own debounce still works, overriding data.debounce, and warns once: deprecated", async () => {
    await using dir = tempDir();
    dir.write("athletes/player_1/TR1_a.csv", "a,label\n1,x\n");
    const clock = new FakeClock(Date.now());
    const data = { ...sessions, debounce: "1m" };
    const { fires, warnings, stop } = await watchOn(dir.path, data, { poll: "100ms", debounce: "0s" }, clock);
    try {
      dir.write("athletes/player_1/TR2_b.csv", "a,label\n1,x\n");
      clock.advance(300);
      expect(fires.map((f) => f.keys)).toEqual([["player_1"]]);
      const deprecated = "the new-data trigger's debounce is deprecated: set jobs.activity.data.debounce instead";
      expect(warnings).toEqual([deprecated]);
    } finally {
      stop();
    }
  });
});
