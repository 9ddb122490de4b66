import { describe, expect, test } from "bun:test";
import { Governor } from "../../runtime/governor/governor.ts";
import type { Sample } from "../../runtime/governor/sampler.ts";
import { tempDir } from "../helpers.ts";
import { testLimits } from "./limits.ts";
import { testFeed } from "./test-feed.ts";

const limits = testLimits({ pausePredictionsPerSecond: 10, pauseAfter: 1 });

describe("governor feed", () => {
  test("samples every interval with the prediction rate, records usage, and stops on dispose", async () => {
    await using dir = tempDir();
    const governor = new Governor(limits);
    const seen: Sample[] = [];
    const { feed, clock, state } = testFeed(dir, governor, { afterSample: (sample) => seen.push(sample) });
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
