import { join } from "node:path";
import { EventBus } from "../../runtime/events/bus.ts";
import { GovernorFeed, type GovernorFeedParts } from "../../runtime/governor/feed.ts";
import type { Governor } from "../../runtime/governor/governor.ts";
import { SelfUsageRecorder } from "../../runtime/offpeak/self-usage.ts";
import { openState } from "../../runtime/state/database.ts";
import { FakeClock } from "../fake-clock.ts";
import { recordingLogger, repoRoot } from "../helpers.ts";

/**
 * The real governor feed on a fake clock, recording usage in a state database in `dir`, on a Jetson Nano's
 * recorded sysfs (a GPU load node: no nvidia-smi or tegrastats is started); `parts` for what a test exercises.
 * Not started: the test starts it, and disposes of the feed and closes the state.
 */
export function testFeed(dir: { path: string }, governor: Governor, parts: Partial<GovernorFeedParts> = {}) {
  const state = openState(dir.path);
  const clock = new FakeClock(Date.UTC(2025, 0, 6, 10));
  const feed = new GovernorFeed({
    governor,
    hostRoot: join(repoRoot, "test/fixtures/jetson-nano"),
    home: dir.path,
    intervalMs: 1000,
    clock,
    logger: recordingLogger([]),
    events: new EventBus(),
    usage: new SelfUsageRecorder(state.db),
    afterSample() {},
    ...parts,
  });
  return { feed, clock, state };
}
