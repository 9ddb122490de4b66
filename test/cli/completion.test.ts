import { describe, expect, test } from "bun:test";
import { optionsOf } from "../../runtime/cli/command.ts";
import { commands } from "../../runtime/cli/command-table.ts";
import { SHELLS } from "../../runtime/cli/completion.ts";
import { tempDir } from "../helpers.ts";
import { runMain } from "./capture.ts";

async function script(shell: string): Promise<string> {
  const { code, stdout } = await runMain(["completion", shell]);
  expect(code).toBe(0);
  return stdout;
}

async function shellRun(command: string[], file: string): Promise<{ code: number; output: string }> {
  const proc = Bun.spawn([...command, file], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, output: out + err };
}

describe("edgetrain completion", () => {
  for (const shell of SHELLS) {
    test(`the ${shell} script mentions every command and every flag of each`, async () => {
      const text = await script(shell);
      for (const command of commands) {
        expect(text).toMatch(new RegExp(`(^|[\\s'"])${command.name}([\\s:)'"]|$)`, "m"));
        for (const name of Object.keys(optionsOf(command)))
          expect(text).toContain(shell === "fish" ? `-l ${name}` : `--${name}`);
        for (const word of (command.arguments ?? []).flatMap((argument) => argument.choices ?? []))
          expect(text).toContain(word);
      }
    });
  }

  test("bash accepts the bash script, and it completes commands, flags and choices", async () => {
    await using dir = tempDir();
    const file = dir.write("edgetrain.bash", await script("bash"));
    expect((await shellRun(["bash", "-n"], file)).code).toBe(0);
    const probe = dir.write(
      "probe.bash",
      `source ${file}
t() { COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMPREPLY=(); _edgetrain; echo "$*=\${COMPREPLY[*]}"; }
t edgetrain stat; t edgetrain status --js; t edgetrain cache ""; t edgetrain completion z; t edgetrain help rollb`,
    );
    const { code, output } = await shellRun(["bash"], probe);
    expect(code).toBe(0);
    expect(output.split("\n")).toEqual([
      "edgetrain stat=status",
      "edgetrain status --js=--json",
      "edgetrain cache =stats clear warm",
      "edgetrain completion z=zsh",
      "edgetrain help rollb=rollback",
      "",
    ]);
  });

  for (const shell of ["zsh", "fish"] as const) {
    test.skipIf(!Bun.which(shell))(
      `${shell} -n accepts the ${shell} script (where ${shell} is installed)`,
      async () => {
        await using dir = tempDir();
        const file = dir.write(`edgetrain.${shell}`, await script(shell));
        const { code, output } = await shellRun([shell, "-n"], file);
        expect(output).toBe("");
        expect(code).toBe(0);
      },
    );
  }

  test("an unknown shell is a usage error with the closest one", async () => {
    const { code, stderr } = await runMain(["completion", "zssh"]);
    expect(code).toBe(2);
    expect(stderr).toContain(
      'unknown shell "zssh" for "edgetrain completion" (did you mean "zsh"?); expected bash, zsh or fish',
    );
  });
});
