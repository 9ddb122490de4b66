import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { EventBus } from "../../runtime/events/bus.ts";
import { GovernorFeed } from "../../runtime/governor/feed.ts";
import { Governor } from "../../runtime/governor/governor.ts";
import type { Sample } from "../../runtime/governor/sampler.ts";
import { SelfUsageRecorder } from "../../runtime/offpeak/self-usage.ts";
import { openState } from "../../runtime/state/database.ts";
import { FakeClock } from "../fake-clock.ts";
import { repoRoot, tempDir } from "../helpers.ts";
import { testLimits } from "./limits.ts";

const limits = testLimits({ pausePredictionsPerSecond: 10, pauseAfter: 1 });

describe("governor feed", () => {
  test("samples every interval with the prediction rate, records usage, and stops on dispose", async () => {
    await using dir = tempDir();
    const state = openState(dir.path);
    const clock = new FakeClock(Date.UTC(2025, 0, 6, 10));
    const governor = new Governor(limits);
    const seen: Sample[] = [];
    // A board with a sysfs GPU load node: no nvidia-smi or tegrastats is started.
    const feed = new GovernorFeed({
      governor,
      hostRoot: join(repoRoot, "test/fixtures/jetson-nano"),
      home: dir.path,
      intervalMs: 1000,
      clock,
      events: new EventBus(),
      usage: new SelfUsageRecorder(state.db),
      afterSample: (sample) => seen.push(sample),
    });
    feed.start();
    for (let i = 0; i < 50; i++) feed.countPrediction();
    clock.advance(1000);
    expect(seen.map((sample) => sample.predictionsPerSecond)).toEqual([50]);
    expect(governor.state.paused).toBe(true);
    clock.advance(1000);
    expect(seen.at(-1)!.predictionsPerSecond).toBe(0);
    feed.dispose();
    clock.advance(5000);
    expect(seen).toHaveLength(2);
    expect(state.db.query<{ samples: number }, []>("SELECT samples FROM usage_hours").all()).toEqual([{ samples: 2 }]);
    state.close();
  });
});
