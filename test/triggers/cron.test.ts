import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import cronTrigger from "../../plugins/triggers/cron.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import type { PluginStore, TriggerFire } from "../../runtime/plugin-api.ts";
import { memoryStore, systemClock } from "../../runtime/plugins/context.ts";
import { instantiate } from "../../runtime/plugins/instantiate.ts";
import { pluginLibraries, registryOf } from "../../runtime/plugins/registry.ts";
import { FakeClock } from "../fake-clock.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const paths = { home: "/h", data: "/h", models: "/h", cache: "/h", logs: "/h", state: "/h", plugins: "/h" };

const plugins = registryOf([cronTrigger]);

async function watchCron(
  options: Record<string, unknown>,
  clock: FakeClock | typeof systemClock,
  store: PluginStore = memoryStore(),
) {
  const fires: Array<TriggerFire & { at: number }> = [];
  const hooks = await instantiate("trigger", "cron", options, { plugins, logger: silentLogger, paths, clock, store });
  const stop = hooks.watch((fire) => void fires.push({ ...fire, at: clock.now() }));
  return { fires, stop: stop ?? (() => {}), store };
}

describe("cron trigger", () => {
  test("fires on schedule in its timezone: three weeks in milliseconds", async () => {
    const clock = new FakeClock(Date.parse("2026-11-22T12:00:00Z")); // a Sunday
    const { fires, stop } = await watchCron({ schedule: "0 2 * * 0", timezone: "Europe/Berlin" }, clock);
    clock.advance(21 * DAY);
    stop();
    expect(fires.map((f) => new Date(f.at).toISOString())).toEqual([
      "2026-11-29T01:00:00.000Z",
      "2026-12-06T01:00:00.000Z",
      "2026-12-13T01:00:00.000Z",
    ]);
    expect(fires[0]!.reason).toBe("cron 0 2 * * 0 at 2026-11-29T01:00:00.000Z");
  });

  test("every 6 hours for a week: 28 fires, none after stop", async () => {
    const clock = new FakeClock(Date.parse("2026-03-01T00:30:00Z"));
    const { fires, stop } = await watchCron({ schedule: "0 */6 * * *", timezone: "UTC" }, clock);
    clock.advance(7 * DAY);
    stop();
    clock.advance(DAY);
    expect(fires).toHaveLength(28);
  });

  test("catch_up runs a fire missed while edgetrain was down, once; without it nothing runs", async () => {
    const store = memoryStore();
    const before = new FakeClock(Date.parse("2026-11-21T12:00:00Z"));
    const first = await watchCron({ schedule: "0 2 * * 0", timezone: "UTC", catch_up: true }, before, store);
    first.stop(); // the device goes off on Saturday noon…
    const after = new FakeClock(Date.parse("2026-11-22T09:00:00Z")); // …and comes back Sunday 09:00, past 02:00
    const back = await watchCron({ schedule: "0 2 * * 0", timezone: "UTC", catch_up: true }, after, store);
    expect(back.fires.map((f) => f.reason)).toEqual([
      "catch-up: 0 2 * * 0 was due at 2026-11-22T02:00:00.000Z while edgetrain was down",
    ]);
    back.stop();
    const again = await watchCron({ schedule: "0 2 * * 0", timezone: "UTC", catch_up: true }, after, store);
    expect(again.fires).toEqual([]); // caught up already
    again.stop();

    const quiet = memoryStore();
    (await watchCron({ schedule: "0 2 * * 0", timezone: "UTC" }, before, quiet)).stop();
    expect((await watchCron({ schedule: "0 2 * * 0", timezone: "UTC" }, after, quiet)).fires).toEqual([]);
  });

  test("a bad schedule is an option error", () => {
    const result = v.safeParse(cronTrigger.options(pluginLibraries), { schedule: "61 * * * *" });
    expect(result.success).toBe(false);
    expect(result.issues![0]!.message).toContain("a cron schedule such as");
  });

  test("on the real clock, a per-second schedule fires within about a second", async () => {
    const { fires, stop } = await watchCron({ schedule: "* * * * * *" }, systemClock);
    const started = Date.now();
    while (fires.length === 0 && Date.now() - started < 3000) await Bun.sleep(20);
    stop();
    expect(fires.length).toBeGreaterThanOrEqual(1);
    expect(fires[0]!.at - started).toBeLessThan(1500);
  });
});
