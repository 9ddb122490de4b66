import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { runCli, tempDir } from "../helpers.ts";

describe("the fleet section of a profile", () => {
  test("profile show masks the broker password and the HTTP api key, written or from the environment", async () => {
    await using dir = tempDir();
    const home = join(dir.path, "home");
    const fleet = "fleet:\n  broker: mqtt://127.0.0.1:1883\n  password: hunter2-broker\n  api_key: ${FLEET_KEY}\n";
    const yaml = `paths: { home: ${home} }\n${fleet}`;
    const file = dir.write("fleet.yaml", yaml);
    const shown = await runCli(["profile", "show", "--profile", file, "--json"], {
      home: dir.path,
      env: { FLEET_KEY: "k3y-from-env" },
    });
    expect(shown.code).toBe(0);
    const profile = JSON.parse(shown.stdout) as { profile: { fleet: Record<string, unknown> } };
    expect(profile.profile.fleet.password).toBe("<secret>");
    expect(profile.profile.fleet.api_key).toBe("<from $FLEET_KEY>");
    expect(shown.stdout).not.toContain("hunter2");
    expect(shown.stdout).not.toContain("k3y-from-env");
  });
});
