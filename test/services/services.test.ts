import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { DaemonBackend } from "../../runtime/api/daemon-backend.ts";
import { resolveProfile } from "../../runtime/config/validate-profile.ts";
import { EventBus } from "../../runtime/events/bus.ts";
import { DiskSpace } from "../../runtime/files/disk-space.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import type { Logger } from "../../runtime/plugin-api.ts";
import { systemClock } from "../../runtime/plugins/context.ts";
import { Disposals } from "../../runtime/services/disposals.ts";
import { type RunningProfile, Services } from "../../runtime/services/services.ts";
import { openState } from "../../runtime/state/database.ts";
import { RunControl } from "../../runtime/training/run-control.ts";
import { FakeClock } from "../fake-clock.ts";
import { tempDir, testEnvironment } from "../helpers.ts";

const profileYaml = (home: string, device: string) =>
  `paths:\n  home: ${home}\ndevice:\n  name: ${device}\njobs:\n  nightly:\n    strategy: random-forest\n    data: { ` +
  `source: sessions, path: athletes }\n    triggers: [{ type: cron, schedule: "0 2 * * *" }]\n`;

describe("services", () => {
  test("the daemon's services start, answer the API's backend, take a new profile and stop", async () => {
    await using dir = tempDir();
    const home = join(dir.path, "home");
    const file = dir.write("home/profile.yaml", profileYaml(home, "before"));
    const environment = testEnvironment(dir.path);
    const resolve = async () => (await resolveProfile(file, environment)) as RunningProfile;
    const resolved = await resolve();
    const state = openState(resolved.paths.state);
    const disk = new DiskSpace({ home, logger: silentLogger, clock: systemClock });
    const stack = new Disposals(silentLogger);
    const bus = new EventBus();
    const services = await Services.build(
      { resolved, environment, state, logger: silentLogger, bus, disk, governed: true, attended: false },
      stack,
    );
    const backend = new DaemonBackend({ services, state, disk, userHome: dir.path, startedAt: Date.now() });
    try {
      await services.start();
      const first = services.scheduler;
      expect(first).toBeDefined();
      expect(backend.status()).toMatchObject({
        device: { name: "before" },
        home,
        jobs: [{ name: "nightly", strategy: "random-forest", enabled: true }],
        running: 0,
        runs: [],
        models: { count: 0, active: 0, loaded: [] },
      });
      expect(backend.jobs()).toMatchObject([{ name: "nightly", triggers: ["cron"] }]);
      const token = backend.chooseToken();
      expect(token).toHaveLength(64);
      expect(backend.chooseToken()).toBe(token);
      expect(backend.controlRun("no-such-run", "cancel")).toBe(false);
      // A run the governor holds is not resumed by a request: it says who holds it.
      const held = new RunControl();
      services.activeRuns.set("held-run", held);
      held.governorPause(true);
      expect(() => backend.controlRun("held-run", "resume")).toThrow(
        "run held-run is not paused by a request: the governor holds it, and resumes it itself",
      );
      expect(held.pause.paused).toBe(true);
      expect(backend.controlRun("held-run", "pause")).toBe(true);
      held.governorPause(false);
      expect(backend.controlRun("held-run", "resume")).toBe(true);
      expect(held.pause.paused).toBe(false);
      services.activeRuns.delete("held-run");
      expect((await backend.metrics()).text).toContain("edgetrain_runs_running 0");

      dir.write("home/profile.yaml", profileYaml(home, "after"));
      await services.reload(await resolve());
      expect(backend.status().device.name).toBe("after");
      // The same scheduler takes the new profile: its queue and runs in progress carry over.
      expect(services.scheduler).toBe(first);
    } finally {
      await stack.dispose();
      state.close();
    }
    // The scheduler stopped with the rest: a request now queues nothing.
    await services.scheduler!.fired("nightly", "manual: test");
    expect(services.scheduler!.queued()).toEqual([]);
  });

  test("for a one-shot run: a runner and a governor, no scheduler, nothing left running", async () => {
    await using dir = tempDir();
    const home = join(dir.path, "home");
    const file = dir.write("home/profile.yaml", profileYaml(home, "once"));
    const environment = testEnvironment(dir.path);
    const resolved = (await resolveProfile(file, environment)) as RunningProfile;
    const state = openState(resolved.paths.state);
    const stack = new Disposals(silentLogger);
    const services = await Services.build(
      { resolved, environment, state, logger: silentLogger, governed: false, attended: false },
      stack,
    );
    expect(services.runner.jobNamed("nightly").strategy).toBe("random-forest");
    expect(services.scheduler).toBeUndefined();
    expect(services.governor.admit()).toEqual({ ok: false, reason: "no resource reading yet", cause: "no_reading" });
    await stack.dispose();
    state.close();
  });

  test("a started daemon gives freed memory back once quiet after a session loads, and logs its size", async () => {
    await using dir = tempDir();
    const home = join(dir.path, "home");
    const file = dir.write("home/profile.yaml", profileYaml(home, "idle"));
    const environment = testEnvironment(dir.path);
    const resolved = (await resolveProfile(file, environment)) as RunningProfile;
    const state = openState(resolved.paths.state);
    const released: Array<Record<string, unknown> | undefined> = [];
    const logger: Logger = {
      ...silentLogger,
      debug: (message, fields) => message === "gave freed memory back to the system" && released.push(fields),
      child: () => logger,
    };
    const stack = new Disposals(silentLogger);
    const bus = new EventBus();
    const idleClock = new FakeClock(Date.UTC(2026, 11, 4));
    const parts = { resolved, environment, state, logger, bus, governed: true, attended: false, idleClock };
    const services = await Services.build(parts, stack);
    try {
      await services.start();
      idleClock.advance(120_000);
      expect(released).toEqual([]);

      bus.emit("model.loaded", { model: "activity", version: 1, provider: "cpu" });
      idleClock.advance(10_000);
      expect(released).toEqual([]);
      idleClock.advance(30_000);
      const rss = expect.any(Number);
      expect(released).toEqual([{ rss_mb_before: rss, rss_mb_after: rss, malloc_trim: expect.any(Boolean) }]);
    } finally {
      await stack.dispose();
      state.close();
    }
  });
});
