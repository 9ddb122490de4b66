import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { commands } from "../../runtime/cli/command-table.ts";
import { runCli, tempDir } from "../helpers.ts";
import { runMain } from "./capture.ts";

/** stderr holds exactly one JSON object, with the three keys every error has. */
function errorObject(stderr: string): { code: string; message: string; hint: string | null } {
  const lines = stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  const body = JSON.parse(lines[0]!) as { code: string; message: string; hint: string | null };
  expect(Object.keys(body).slice(0, 3)).toEqual(["code", "message", "hint"]);
  return body;
}

describe("--json", () => {
  test("every command takes --json", async () => {
    for (const command of commands) expect((await runMain([command.name, "--help"])).stdout).toContain("--json");
  });

  test("a usage error is one JSON object on stderr, with exit 2 and nothing on stdout", async () => {
    const unknown = await runMain(["stauts", "--json"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe("");
    expect(errorObject(unknown.stderr)).toEqual({
      code: "usage",
      message: 'unknown command "stauts" (did you mean "status"?)',
      hint: "edgetrain --help lists the commands",
    });
    const flag = await runMain(["runs", "--jsn", "--json"]);
    expect(flag.code).toBe(2);
    expect(errorObject(flag.stderr).message).toContain('(did you mean "--json"?)');
    const extra = await runMain(["models", "--json", "add", "NAME", "FILE", "MORE"]);
    expect(extra.code).toBe(2);
    expect(errorObject(extra.stderr).code).toBe("usage");
  });

  test("a command's own error is one JSON object with its usual exit code, from a real process", async () => {
    await using dir = tempDir();
    const { code, stdout, stderr } = await runCli(["status", "--json", "--home", dir.path], { home: dir.path });
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(errorObject(stderr)).toEqual({
      code: "not_found",
      message: `no daemon runs on ${dir.path}`,
      hint: `start it with: edgetrain run --home ${dir.path}`,
    });
  });

  test(
    "a profile with problems: the problems ride along in the same object; without --json they stay " + "text",
    async () => {
      await using dir = tempDir();
      const bad = dir.write("bad.yaml", "apii: 1\n");
      const json = await runMain(["profile", "show", "--profile", bad, "--json"], { home: dir.path });
      expect(json.code).toBe(1);
      const body = errorObject(json.stderr) as { code: string; problems?: string[] };
      expect(body.code).toBe("profile_invalid");
      expect(body.problems?.[0]).toContain('unknown key "apii"');
      const text = await runMain(["profile", "show", "--profile", bad], { home: dir.path });
      expect(text.stderr).toContain(`${bad}:1:1  apii  unknown key "apii"`);
    },
  );

  test("commands that only said what they did answer in JSON too", async () => {
    await using dir = tempDir();
    const home = join(dir.path, "home");
    const setup = await runMain(["setup", "--home", home, "--extends", "base", "--json"], { home: dir.path });
    expect(setup.code).toBe(0);
    expect(JSON.parse(setup.stdout)).toMatchObject({
      home,
      profile: join(home, "profile.yaml"),
      written: true,
      extends: "base",
    });
    const again = await runMain(["setup", "--home", home, "--json"], { home: dir.path });
    expect(JSON.parse(again.stdout)).toMatchObject({ written: false, extends: null });

    const secret = dir.write("secret.yaml", `paths: { home: ${home} }\napi: { token: s3cret-s3cret-s3cret-s3cret }\n`);
    const shown = await runMain(["profile", "show", "--profile", secret, "--json", "--resolved"], { home: dir.path });
    expect(shown.code).toBe(0);
    const profile = JSON.parse(shown.stdout) as {
      name: string;
      profile: { api: { token: string } };
      origins: Record<string, string>;
      paths: { home: string };
    };
    expect(profile.name).toBe("secret");
    expect(profile.profile.api.token).toBe("<secret>");
    expect(shown.stdout).not.toContain("s3cret");
    expect(profile.origins["api.token"]).toBe(`${secret}:2`);
    expect(profile.paths.home).toBe(home);

    const units = join(dir.path, "units");
    const install = await runMain(["service", "install", "--user", "--unit-dir", units, "--home", home, "--json"], {
      home: dir.path,
    });
    expect(JSON.parse(install.stdout)).toEqual({
      unit: join(units, "edgetrain.service"),
      user: null,
      next: expect.any(Array),
    });
    const uninstall = await runMain(["service", "uninstall", "--user", "--unit-dir", units, "--json"], {
      home: dir.path,
    });
    expect(JSON.parse(uninstall.stdout)).toMatchObject({ removed: true });
  });
});
