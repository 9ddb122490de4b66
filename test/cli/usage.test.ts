import { describe, expect, test } from "bun:test";
import { runCli, tempDir } from "../helpers.ts";
import { runMain } from "./capture.ts";

describe("a wrong command line is a usage error (exit 2) that names what is wrong", () => {
  test("a misspelled command suggests the closest one, from a real process", async () => {
    await using dir = tempDir();
    const { code, stdout, stderr } = await runCli(["stauts"], { home: dir.path });
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain('unknown command "stauts" (did you mean "status"?)');
    expect(stderr).toContain("edgetrain --help lists the commands");
  });

  test("help for a misspelled command suggests too; a word far from every command suggests nothing", async () => {
    const help = await runMain(["help", "stauts"]);
    expect(help.code).toBe(2);
    expect(help.stderr).toContain('(did you mean "status"?)');
    const far = await runMain(["xyzzy-plugh"]);
    expect(far.code).toBe(2);
    expect(far.stderr).toContain('unknown command "xyzzy-plugh"');
    expect(far.stderr).not.toContain("did you mean");
  });

  test("an unknown flag suggests the closest flag of that command", async () => {
    const status = await runMain(["status", "--jsn"]);
    expect(status.code).toBe(2);
    expect(status.stderr).toContain('unknown option "--jsn" for "edgetrain status" (did you mean "--json"?)');
    const fit = await runMain(["fit", "--strategy", "random-forest", "--on-bad-cel", "fail"]);
    expect(fit.code).toBe(2);
    expect(fit.stderr).toContain('(did you mean "--on-bad-cell"?)');
    const letter = await runMain(["runs", "-x"]);
    expect(letter.code).toBe(2);
    expect(letter.stderr).toContain('unknown option "-x" for "edgetrain runs"');
  });

  test(
    "models remove NAME, or models add with one argument too many, is refused, naming the argument, instead of " +
      "listing the models",
    async () => {
      await using dir = tempDir();
      const { code, stdout, stderr } = await runMain(["models", "remove", "NAME", "--home", dir.path], {
        home: dir.path,
      });
      expect(code).toBe(2);
      expect(stdout).toBe("");
      expect(stderr).toContain('unknown action "remove" for "edgetrain models"; expected add');
      const extra = await runMain(["models", "add", "NAME", "FILE", "MORE", "--home", dir.path], { home: dir.path });
      expect(extra.code).toBe(2);
      expect(extra.stderr).toContain('unexpected argument "MORE" for "edgetrain models" (it takes ACTION NAME FILE)');
      const activate = await runMain(["activate", "m", "2", "3"]);
      expect(activate.code).toBe(2);
      expect(activate.stderr).toContain('unexpected argument "3" for "edgetrain activate" (it takes NAME VERSION)');
    },
  );

  test("a missing argument, a flag without its value and a wrong choice are named", async () => {
    const train = await runMain(["train"]);
    expect(train.code).toBe(2);
    expect(train.stderr).toContain('"edgetrain train" needs JOB');
    const fit = await runMain(["fit", "--strategy"]);
    expect(fit.code).toBe(2);
    expect(fit.stderr).toContain('--strategy for "edgetrain fit" needs a value');
    const cache = await runMain(["cache", "stast"]);
    expect(cache.code).toBe(2);
    expect(cache.stderr).toContain(
      'unknown action "stast" for "edgetrain cache" (did you mean "stats"?); expected stats, clear or warm',
    );
  });

  test("flags after -- belong to the command edgetrain hold runs", async () => {
    await using dir = tempDir();
    const { code, stdout } = await runCli(
      ["hold", "live", "--home", dir.path, "--", "sh", "-c", 'echo "$@"', "sh", "-v", "--json"],
      { home: dir.path },
    );
    expect(code).toBe(0);
    expect(stdout).toBe("-v --json\n");
  });
});
