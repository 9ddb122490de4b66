import { expect, test } from "bun:test";
import { join } from "node:path";
import { resolveProfile } from "../../runtime/config/validate-profile.ts";
import { cancellation } from "../../runtime/errors.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import { openState } from "../../runtime/state/database.ts";
import { getRun } from "../../runtime/state/runs.ts";
import { JobRunner } from "../../runtime/training/job-runner.ts";
import { tempDir, testEnvironment } from "../helpers.ts";

// A trainer that never ends: only a cancel stops it.
const TRAINER = `while true; do echo '{"event":"heartbeat"}'; sleep 0.1; done`;

test("a cancelled run records its code and reason by cause: a person, a shutdown", async () => {
  await using dir = tempDir();
  const home = join(dir.path, "home");
  const file = dir.write(
    "home/profile.yaml",
    `paths:\n  home: ${home}\njobs:\n  loop:\n    strategy: command\n    options: { command: ` +
      `${JSON.stringify(TRAINER)}, grace_period: 200ms }\n`,
  );
  const { profile, paths, registry } = await resolveProfile(file, testEnvironment(dir.path));
  const state = openState(paths!.state);
  const runner = new JobRunner({ profile: profile!, paths: paths!, registry, state, logger: silentLogger });
  const started = async () => {
    const deadline = Date.now() + 10_000;
    while (runner.active.size === 0 && Date.now() < deadline) await Bun.sleep(20);
    return [...runner.active.entries()][0]!;
  };
  try {
    // A person: the API's cancel aborts the run's own control.
    const byPerson = runner.run({ job: "loop", trigger: "manual: test" });
    const [, control] = await started();
    control.abort.abort(cancellation("person", "cancelled by request"));
    const [person] = await byPerson;
    // A shutdown: the scheduler aborts the signal it handed to the run.
    const stopping = new AbortController();
    const byShutdown = runner.run({ job: "loop", trigger: "manual: test", signal: stopping.signal });
    await started();
    stopping.abort(cancellation("shutdown", "edgetrain is stopping"));
    const [shutdown] = await byShutdown;

    expect([person, shutdown].map((outcome) => [outcome!.status, outcome!.cancel_reason, outcome!.error])).toEqual([
      ["cancelled", "person", "cancelled by request"],
      ["cancelled", "shutdown", "edgetrain is stopping"],
    ]);
    const recorded = [person, shutdown].map((outcome) => getRun(state.db, outcome!.run)!);
    expect(
      recorded.map((run) => [
        run.status,
        run.error,
        (run.details as Record<string, unknown>).error_code,
        (run.details as Record<string, unknown>).cancel_reason,
      ]),
    ).toEqual([
      ["cancelled", "cancelled: cancelled by request", "cancelled", "person"],
      ["cancelled", "cancelled: edgetrain is stopping", "cancelled", "shutdown"],
    ]);
  } finally {
    state.close();
  }
}, 30_000);
