import { describe, expect, test } from "bun:test";
import { loadProfile } from "../../runtime/config/load-profile.ts";
import { resolvePaths } from "../../runtime/config/paths.ts";
import { tempDir, testEnvironment } from "../helpers.ts";

describe("profile merge", () => {
  test("a built-in target overrides only what differs from base", () => {
    const loaded = loadProfile({ profile: "jetson-nano", environment: testEnvironment("/home/u") });
    expect(loaded.problems).toEqual([]);
    expect(loaded.profile!.governor.memory_limit_mb).toBe(2048);
    expect(loaded.profile!.governor.workers).toBe(2);
    expect(loaded.profile!.governor.pause_cpu).toBe(90); // from base
    expect(loaded.origins.get("governor.workers")).toMatch(/^profiles\/jetson-nano\.yaml:\d+$/);
    expect(loaded.origins.get("governor.pause_cpu")).toMatch(/^profiles\/base\.yaml:\d+$/);
  });

  test("every built-in profile validates and has per-target values", () => {
    const workers = Object.fromEntries(
      ["jetson-nano", "jetson-orin", "gpu-server", "t3-micro"].map((name) => {
        const loaded = loadProfile({ profile: name, environment: testEnvironment("/home/u") });
        expect(loaded.problems).toEqual([]);
        return [name, loaded.profile!.governor.workers];
      }),
    );
    expect(workers).toEqual({ "jetson-nano": 2, "jetson-orin": 4, "gpu-server": 4, "t3-micro": 1 });
    expect(loadProfile({ profile: "gpu-server", environment: testEnvironment("/h") }).profile!.device.accelerator).toBe(
      "cuda",
    );
    expect(
      loadProfile({ profile: "t3-micro", environment: testEnvironment("/h") }).profile!.governor.memory_limit_mb,
    ).toBe(1024);
    const trees = (name: string) =>
      (
        loadProfile({ profile: name, environment: testEnvironment("/h") }).profile!.defaults.strategies[
          "random-forest"
        ] as { n_estimators: number }
      ).n_estimators;
    expect(trees("jetson-nano")).toBeLessThan(trees("gpu-server"));
  });

  test("of the policies that protect serving from training, only the latency guard is on out of the box", () => {
    for (const name of ["base", "jetson-nano", "jetson-orin", "gpu-server", "t3-micro"]) {
      const { governor } = loadProfile({ profile: name, environment: testEnvironment("/h") }).profile!;
      const policies = [
        governor.latency_guard.enabled,
        governor.spare_core_predictions_per_s,
        governor.pause_predictions_per_s,
      ];
      expect({ name, policies }).toEqual({ name, policies: [true, 0, 0] });
    }
  });

  test("maps merge deeply, lists replace, a user file can extend a file", async () => {
    await using dir = tempDir();
    dir.write(
      "site.yaml",
      "extends: gpu-server\nconflicts:\n  predictors:\n    - { name: a, cmdline: a.py }\n    - { name: b, cmdline: " +
        "b.py }\n",
    );
    const file = dir.write(
      "lab.yaml",
      "extends: ./site.yaml\nconflicts:\n  predictors:\n    - { name: live, cmdline: test_30_players.py " +
        "}\ngovernor:\n  pause_cpu: 70\n",
    );
    const loaded = loadProfile({ profile: file, environment: testEnvironment(dir.path) });
    expect(loaded.problems).toEqual([]);
    expect(loaded.profile!.conflicts.predictors).toEqual([{ name: "live", cmdline: "test_30_players.py" }]);
    expect(loaded.profile!.governor.pause_cpu).toBe(70);
    expect(loaded.profile!.governor.workers).toBe(4); // from gpu-server
    expect(loaded.profile!.governor.sample_interval).toBe("1s"); // from base
    expect(loaded.files.map((f) => f.replace(dir.path, "."))).toEqual([
      "profiles/base.yaml",
      "profiles/gpu-server.yaml",
      "./site.yaml",
      "./lab.yaml",
    ]);
  });

  test("${ENV} substitution: secrets and typed values, remembered as secrets", async () => {
    await using dir = tempDir();
    const file = dir.write(
      "p.yaml",
      "api:\n  host: 0.0.0.0\n  port: ${PORT}\n  token: ${EDGETRAIN_TOKEN}\npaths:\n  home: " +
        "${DATA_ROOT:-/srv/edgetrain}\n",
    );
    const loaded = loadProfile({
      profile: file,
      environment: testEnvironment(dir.path, { PORT: "9001", EDGETRAIN_TOKEN: "s3cret-token-0123456789" }),
    });
    expect(loaded.problems).toEqual([]);
    expect(loaded.profile!.api.port).toBe(9001);
    expect(loaded.profile!.api.token).toBe("s3cret-token-0123456789");
    expect(loaded.profile!.paths.home).toBe("/srv/edgetrain");
    expect(loaded.secrets.get("api.token")).toBe("EDGETRAIN_TOKEN");
  });

  test("an unset variable is a problem at its line, reported once", async () => {
    await using dir = tempDir();
    const file = dir.write("p.yaml", "api:\n  token: ${MISSING_TOKEN}\n");
    const loaded = loadProfile({ profile: file, environment: testEnvironment(dir.path) });
    expect(loaded.profile).toBeUndefined();
    expect(loaded.problems).toHaveLength(1);
    expect(loaded.problems[0]).toMatchObject({
      file,
      line: 2,
      column: 10,
      path: "api.token",
      message: "environment variable MISSING_TOKEN is not set",
    });
  });

  test("flags win over EDGETRAIN_HOME, which wins over the file; relative paths live under home", async () => {
    await using dir = tempDir();
    const file = dir.write("p.yaml", "paths:\n  home: /from/file\n  models: /abs/models\n");
    const env = testEnvironment(dir.path, { EDGETRAIN_HOME: "/from/env" });
    expect(loadProfile({ profile: file, environment: env }).profile!.paths.home).toBe("/from/env");
    const loaded = loadProfile({ profile: file, environment: env, overrides: { home: "/from/flag", port: 0 } });
    expect(loaded.origins.get("paths.home")).toBe("flag --home");
    expect(loaded.origins.get("api.port")).toBe("flag --port");
    const paths = resolvePaths(loaded.profile!, dir.path);
    expect(paths.state).toBe("/from/flag/state");
    expect(paths.models).toBe("/abs/models");
  });

  test("EDGETRAIN_LOGS (a system service's LogsDirectory=) wins over the file's paths.logs", async () => {
    await using dir = tempDir();
    const file = dir.write("p.yaml", "paths:\n  logs: /from/file\n");
    const loaded = loadProfile({
      profile: file,
      environment: testEnvironment(dir.path, { EDGETRAIN_LOGS: "/var/log/edgetrain" }),
    });
    expect(loaded.origins.get("paths.logs")).toBe("environment EDGETRAIN_LOGS");
    expect(resolvePaths(loaded.profile!, dir.path).logs).toBe("/var/log/edgetrain");
  });

  test("base.yaml spells out exactly the schema's defaults", () => {
    const fromYaml = loadProfile({ profile: "base", environment: testEnvironment("/h") }).profile;
    const fromDefaults = loadProfile({ profile: "base", environment: testEnvironment("/h") });
    expect(fromYaml).toEqual(fromDefaults.profile!);
    for (const [path, origin] of fromDefaults.origins) expect(`${path} from ${origin}`).not.toEndWith("from default");
  });
});
