import { expect, test } from "bun:test";
import { join } from "node:path";
import { builtinPlugins } from "../../plugins/index.ts";
import { resolveProfile } from "../../runtime/config/validate-profile.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import type { Logger } from "../../runtime/plugin-api.ts";
import { registryOf } from "../../runtime/plugins/registry.ts";
import { openState } from "../../runtime/state/database.ts";
import { JobRunner } from "../../runtime/training/job-runner.ts";
import { maxRuntimeOf } from "../../runtime/training/run-deadline.ts";
import { tempDir, testEnvironment } from "../helpers.ts";

/** A trainer in shell that heartbeats every 0.1 s for $1 beats, then reports a model. */
const TRAINER =
  `i=0; while [ $i -lt "$1" ]; do i=$((i+1)); echo '{"event":"heartbeat","step":1}'; sleep 0.1; done; ` +
  `touch model.onnx; echo '{"event":"artifact","path":"model.onnx"}'\n`;

test("each strategy brings its own max_runtime default; the job's wins", () => {
  const registry = registryOf(builtinPlugins);
  const strategy = (name: string) => registry.get("strategy", name)!.module;
  expect(maxRuntimeOf({}, strategy("command"))).toBe("24h");
  expect(maxRuntimeOf({}, strategy("random-forest"))).toBe("2h");
  expect(maxRuntimeOf({}, strategy("incremental-nn"))).toBe("6h");
  expect(maxRuntimeOf({ max_runtime: "8h" }, strategy("command"))).toBe("8h");
  expect(maxRuntimeOf({}, {})).toBe("2h");
});

test(
  "a run near its max_runtime is warned (event and log) before it is cancelled; a command job gets " + "24h",
  async () => {
    await using dir = tempDir();
    const home = join(dir.path, "home");
    const script = dir.write("train.sh", TRAINER);
    const file = dir.write(
      "home/profile.yaml",
      `paths:\n  home: ${home}\njobs:\n  long:\n    strategy: command\n    max_runtime: 1s\n    options: { command: ` +
        `[/bin/sh, ${script}, "100"] }\n  quick:\n    strategy: command\n    options: { command: [/bin/sh, ` +
        `${script}, "1"] }\n`,
    );
    const resolved = await resolveProfile(file, testEnvironment(dir.path));
    expect(resolved.problems.filter((problem) => problem.severity === "error")).toEqual([]);
    const state = openState(resolved.paths!.state);
    const events: Array<{ type: string; data: Record<string, unknown> }> = [];
    const warnings: Array<{ message: string; fields?: Record<string, unknown> }> = [];
    const logger: Logger = {
      ...silentLogger,
      warn: (message, fields) => void warnings.push({ message, fields }),
      child: () => logger,
    };
    try {
      const runner = new JobRunner({
        profile: resolved.profile!,
        paths: resolved.paths!,
        registry: resolved.registry,
        state,
        logger,
        events: { emit: (type, data) => void events.push({ type, data }) },
      });
      const [long] = await runner.run({ job: "long", trigger: "test" });
      expect(long).toMatchObject({
        status: "cancelled",
        cancel_reason: "max_runtime",
        error: "ran past max_runtime 1s",
      });
      const types = events.map((event) => event.type);
      expect(types).toContain("run.max_runtime_near");
      expect(events.find((event) => event.type === "run.max_runtime_near")!.data).toMatchObject({
        run: long!.run,
        job: "long",
        max_runtime: "1s",
        remaining_ms: 100,
      });
      expect(warnings.map((warning) => warning.message)).toContain("run nears its max_runtime");
      const [quick] = await runner.run({ job: "quick", trigger: "test" });
      expect(quick!.status).toBe("succeeded");
      expect(events.filter((event) => event.type === "run.started").map((event) => event.data.max_runtime)).toEqual([
        "1s",
        "24h",
      ]);
      // The quick run ended long before its limit: no warning for it.
      expect(events.filter((event) => event.type === "run.max_runtime_near")).toHaveLength(1);
    } finally {
      state.close();
    }
  },
);
