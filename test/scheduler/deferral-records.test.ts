import { expect, test } from "bun:test";
import { cpSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveProfile } from "../../runtime/config/validate-profile.ts";
import { UnattendedAsker } from "../../runtime/conflicts/clearance.ts";
import { EventBus } from "../../runtime/events/bus.ts";
import { Governor } from "../../runtime/governor/governor.ts";
import { governorLimits } from "../../runtime/governor/limits.ts";
import { Scheduler } from "../../runtime/scheduler/scheduler.ts";
import { openState } from "../../runtime/state/database.ts";
import { JobRunner } from "../../runtime/training/job-runner.ts";
import { testFeed } from "../governor/test-feed.ts";
import { type LoggedLine, recordingLogger, repoRoot, tempDir, testEnvironment } from "../helpers.ts";

/** A recorded Jetson Nano whose /proc/stat and /proc/meminfo the test writes before each sample. */
function recordedHost(root: string) {
  cpSync(join(repoRoot, "test/fixtures/jetson-nano"), root, { recursive: true });
  let busy = 0;
  let idle = 0;
  return {
    /** The CPU `percent` busy since the previous sample, and `memory` percent of 4 GB in use. */
    next(percent: number, memory: number) {
      busy += percent;
      idle += 100 - percent;
      writeFileSync(join(root, "proc/stat"), `cpu  ${busy} 0 0 ${idle} 0 0 0 0 0 0\n`);
      const total = 4_000_000;
      const available = Math.round((total * (100 - memory)) / 100);
      writeFileSync(join(root, "proc/meminfo"), `MemTotal: ${total} kB\nMemAvailable: ${available} kB\n`);
    },
  };
}

test("a deferral is recorded when the limit that defers changes, not each time its figure moves", async () => {
  await using dir = tempDir();
  const home = join(dir.path, "home");
  const host = recordedHost(join(dir.path, "host"));
  host.next(0, 10);
  const file = dir.write(
    "home/profile.yaml",
    `paths: { home: ${home} }
governor: { sample_interval: 1s, max_cpu_before: 50, max_memory_before: 80, pause_cpu: 100, pause_memory: 100 }
jobs:
  slow:
    strategy: command
    options: { command: "true" }
    triggers: [{ type: manual }]
`,
  );
  const { profile, paths, registry } = await resolveProfile(file, testEnvironment(dir.path));
  const state = openState(paths!.state);
  const governor = new Governor(governorLimits(profile!.governor));
  const logged: LoggedLine[] = [];
  const logger = recordingLogger(logged);
  const runner = new JobRunner({ profile: profile!, paths: paths!, registry, state, logger, governor });
  let scheduler: Scheduler | undefined;
  const fed = testFeed({ path: join(dir.path, "feed") }, governor, {
    hostRoot: join(dir.path, "host"),
    afterSample: () => scheduler?.pump(),
  });
  const { clock } = fed;
  scheduler = new Scheduler({
    ...{ profile: profile!, paths: paths!, registry, state, runner, governor, logger, clock },
    events: new EventBus(),
    asker: new UnattendedAsker(),
  });
  const deferrals = () =>
    state.db
      .query<{ data: string }, []>("SELECT data FROM events WHERE type = 'run.deferred' ORDER BY id")
      .all()
      .map((row) => JSON.parse(row.data).reason as string);
  const sample = (cpu: number, memory: number) => {
    host.next(cpu, memory);
    clock.advance(1000);
  };
  fed.feed.start();
  try {
    sample(93, 10);
    await scheduler.fired("slow", "manual: test");
    for (const cpu of [95, 97, 93, 99, 94]) sample(cpu, 10);
    expect(deferrals()).toEqual(["CPU 93 % ≥ max_cpu_before 50 %"]);
    // Another limit defers it: recorded, with its figure.
    for (const memory of [91, 92, 93]) sample(10, memory);
    expect(deferrals()).toEqual(["CPU 93 % ≥ max_cpu_before 50 %", "memory 91 % ≥ max_memory_before 80 %"]);
    expect(logged.filter((line) => line.message === "run deferred")).toHaveLength(2);
    expect(scheduler.queued().map((entry) => entry.job)).toEqual(["slow"]);
  } finally {
    fed.feed.dispose();
    await scheduler.stop();
    fed.state.close();
    state.close();
  }
});
