import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { serviceUserProblem } from "../../runtime/systemd/service-user.ts";
import { runMain } from "../cli/capture.ts";
import { tempDir } from "../helpers.ts";

test("a system unit's user is a plain user name: never root, a uid, an empty or a multi-line name", () => {
  for (const name of ["edgetrain", "athlete", "_svc", "ml-runner_2", "a".repeat(32)])
    expect({ name, problem: serviceUserProblem(name) }).toEqual({ name, problem: undefined });
  const refused: Array<[string, string]> = [
    ["", "run as root"],
    ["root", "must not run as root"],
    ["0", "numeric id"],
    ["1000", "numeric id"],
    ["bob\nUser=root", "not a user name"],
    ["bad user", "not a user name"],
    ["Bob", "not a user name"],
    ["-bob", "not a user name"],
    ["9lives", "not a user name"],
    ["host$", "not a user name"],
    ["bob;rm", "not a user name"],
    ["a".repeat(33), "longer than 32"],
  ];
  for (const [name, why] of refused)
    expect({ name, problem: serviceUserProblem(name) }).toEqual({ name, problem: expect.stringContaining(why) });
});

test("service install refuses such a --run-as as a usage error and writes no unit", async () => {
  await using dir = tempDir();
  const unitDir = join(dir.path, "units");
  for (const name of ["", "0", "bob\nUser=root", "bad user", "root"]) {
    const args = ["service", "install", "--profile", "t3-micro", "--run-as", name, "--unit-dir", unitDir];
    const result = await runMain(args, { home: dir.path });
    expect({ name, code: result.code }).toEqual({ name, code: 2 });
    expect(result.stderr).toContain("--run-as: ");
    expect(existsSync(join(unitDir, "edgetrain.service"))).toBe(false);
  }
  const dry = await runMain(["service", "install", "--dry-run", "--profile", "t3-micro", "--run-as", "athlete"], {
    home: dir.path,
  });
  expect(dry.code).toBe(0);
  expect(dry.stdout.match(/^User=.*$/gm)).toEqual(["User=athlete"]);
});
