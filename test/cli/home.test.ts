import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { runCli, tempDir } from "../helpers.ts";

describe("a home that cannot be a folder is a usage error (exit 2) naming it, never exit 70", () => {
  test("--home on a regular file, for every command that opens or makes the home", async () => {
    await using dir = tempDir();
    const file = dir.write("v.csv", "a,label\n1,0\n");
    const commands = [
      ["setup"],
      ["run", "--port", "0", "--headless"],
      ["runs"],
      ["decisions"],
      ["models"],
      ["models", "add", "m", file],
      ["cache", "stats"],
      ["cache", "warm"],
      ["activate", "m", "1"],
      ["train", "x"],
      ["fit", "--strategy", "random-forest", "--data", file],
      ["hub", "--port", "0"],
      ["demo", "--once", "--headless", "--port", "0"],
    ];
    const results = await Promise.all(commands.map((args) => runCli([...args, "--home", file], { home: dir.path })));
    results.forEach((result, i) => {
      expect({ command: commands[i], code: result.code }).toEqual({ command: commands[i], code: 2 });
      expect(result.stderr).toContain(`home ${file} (--home) is not a folder`);
    });
    const variable = await runCli(["runs"], { home: dir.path, env: { EDGETRAIN_HOME: file } });
    expect(variable.code).toBe(2);
    expect(variable.stderr).toContain(`home ${file} (EDGETRAIN_HOME) is not a folder`);
    // HOME is the temp folder, where bun keeps its .bun cache; nothing else may have been made there.
    expect(readdirSync(dir.path).filter((name) => name !== ".bun")).toEqual(["v.csv"]);
  }, 60_000);

  test("setup under a file, or where no folder can be made, says why", async () => {
    await using dir = tempDir();
    const file = dir.write("v.csv", "a\n");
    const under = await runCli(["setup", "--home", join(file, "home")], { home: dir.path });
    expect(under.code).toBe(2);
    expect(under.stderr).toContain(`home ${join(file, "home")} (--home) cannot be created: ${file} is not a folder`);
    if (!existsSync("/proc/self")) return;
    const proc = await runCli(["setup", "--home", "/proc/edgetrain-home"], { home: dir.path });
    expect(proc.code).toBe(2);
    expect(proc.stderr).toContain("home /proc/edgetrain-home cannot be created: ENOENT");
    expect(proc.stderr).not.toContain("internal error");
  }, 30_000);

  test.skipIf(!existsSync("/proc/self"))(
    "a home where no folder can be made (/proc) is named by every command that reads or changes it",
    async () => {
      await using dir = tempDir();
      const file = dir.write("v.csv", "a,label\n1,0\n");
      const home = "/proc/edgetrain-home";
      const commands = [
        ["runs"],
        ["decisions"],
        ["models"],
        ["model", "m"],
        ["cache", "stats"],
        ["cache", "clear"],
        ["cache", "warm"],
        ["activate", "m", "1"],
        ["rollback", "m"],
        ["models", "add", "m", file],
        ["train", "x"],
        // Its disk check must not take /proc, which has no size, for a full disk.
        ["run", "--port", "0", "--headless"],
      ];
      const results = await Promise.all(commands.map((args) => runCli([...args, "--home", home], { home: dir.path })));
      results.forEach((result, i) => {
        expect({ command: commands[i], code: result.code, stderr: result.stderr }).toEqual({
          command: commands[i],
          code: 2,
          stderr: expect.stringContaining(`home ${home} cannot be created: ENOENT`),
        });
        expect(result.stderr).not.toContain("internal error");
      });
    },
    60_000,
  );

  test.skipIf(!existsSync("/proc/self"))(
    "the hub, its key, the demo and hold name a home where no folder can be made (/proc)",
    async () => {
      await using dir = tempDir();
      const home = "/proc/edgetrain-home";
      const commands = [
        ["hub", "--port", "0", "--broker-port", "0", "--home", home],
        ["hub", "key", "--home", home],
        ["demo", "--once", "--headless", "--port", "0", "--home", home],
        ["hold", "--home", home, "nightly", "--", "true"],
      ];
      const results = await Promise.all(commands.map((args) => runCli(args, { home: dir.path })));
      results.forEach((result, i) => {
        expect({ command: commands[i], code: result.code, stderr: result.stderr }).toEqual({
          command: commands[i],
          code: 2,
          // One line: no stack, and `hub key` does not say it made a key it could not write.
          stderr: expect.stringMatching(new RegExp(`^edgetrain: home ${home} cannot be created: ENOENT: [^\n]+\n$`)),
        });
      });
    },
    60_000,
  );

  test.skipIf(!existsSync("/proc/self"))(
    "a profile whose logs folder cannot be made: train and run say so and leave the home unlocked",
    async () => {
      await using dir = tempDir();
      const home = join(dir.path, "home");
      const profile = dir.write(
        "profile.yaml",
        "extends: base\npaths: { logs: /proc/edgetrain-logs }\n" +
          "jobs:\n  j:\n    strategy: random-forest\n    data: { source: rows, path: rows }\n" +
          "    triggers: [{ type: manual }]\n",
      );
      for (const command of [
        ["train", "j"],
        ["run", "--port", "0", "--headless"],
      ]) {
        const result = await runCli([...command, "--home", home, "--profile", profile], { home: dir.path });
        expect({ command, code: result.code, stderr: result.stderr }).toEqual({
          command,
          code: 2,
          stderr:
            `edgetrain: home ${home} cannot be created: ENOENT: no such file or directory, ` +
            `mkdir '/proc/edgetrain-logs'\n`,
        });
        expect(readdirSync(home)).not.toContain("edgetrain.lock");
      }
    },
    30_000,
  );

  test("an empty --home is refused, and nothing is written into the current folder", async () => {
    await using dir = tempDir();
    const cwd = join(dir.path, "cwd");
    mkdirSync(cwd);
    for (const args of [["setup"], ["runs"], ["validate"], ["demo"]]) {
      const result = await runCli([...args, "--home", ""], { home: dir.path, cwd });
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toContain("--home is empty: name a folder");
    }
    expect(readdirSync(cwd)).toEqual([]);
  }, 30_000);
});
