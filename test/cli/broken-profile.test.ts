import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { runCli, tempDir } from "../helpers.ts";

test("commands that work on a home's models, locks or runs stop at a broken profile, naming its problem", async () => {
  await using dir = tempDir();
  const home = join(dir.path, "profile-home");
  const typo = dir.write("typo.yaml", `paths:\n  home: ${home}\napi:\n  prot: 1\n`);
  const commands = [
    ["hold", "dashboard", "--profile", typo, "--", "true"],
    ["models", "--profile", typo],
    ["model", "activity-player_1", "--profile", typo],
    ["runs", "--profile", typo],
    ["cache", "stats", "--profile", typo],
    ["hold", "dashboard", "--profile", "no-such-profile", "--", "true"],
  ];
  for (const args of commands) {
    const { code, stderr } = await runCli(args, { home: dir.path });
    const named = stderr.includes("api.prot") || stderr.includes('profile "no-such-profile" not found');
    expect({ args, code, named }).toEqual({ args, code: 3, named: true });
  }
  // Neither the default home (HOME is the temporary folder) nor the profile's own was worked on instead.
  expect(existsSync(join(dir.path, ".edgetrain"))).toBe(false);
  expect(existsSync(home)).toBe(false);
}, 60_000);
