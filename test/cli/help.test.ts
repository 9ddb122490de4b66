import { describe, expect, test } from "bun:test";
import { commands } from "../../runtime/cli/command-table.ts";
import { runMain } from "./capture.ts";

describe("help", () => {
  test("edgetrain --help lists every command with its summary", async () => {
    const { code, stdout } = await runMain(["--help"]);
    expect(code).toBe(0);
    for (const command of commands)
      expect(stdout).toMatch(
        new RegExp(`^  ${command.name} +${command.summary.slice(0, 20).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`, "m"),
      );
  });

  test("without a command, the help goes to stdout with the usage exit code", async () => {
    const { code, stdout } = await runMain([]);
    expect(code).toBe(2);
    expect(stdout).toContain("Commands:");
  });

  for (const command of commands) {
    test(`${command.name} --help shows its usage, every option and an example`, async () => {
      const { code, stdout, stderr } = await runMain([command.name, "--help"]);
      expect(stderr).toBe("");
      expect(code).toBe(0);
      expect(stdout).toStartWith(`Usage: edgetrain ${command.name} `);
      for (const [name, option] of Object.entries(command.options)) {
        expect(stdout).toContain(`--${name}${option.type === "string" ? " <" : ""}`);
        if (option.short) expect(stdout).toContain(`-${option.short}, --${name}`);
      }
      for (const argument of command.arguments ?? []) expect(stdout).toContain(argument.name);
      expect(command.examples.length).toBeGreaterThan(0);
      expect(stdout).toContain(`Examples:\n  ${command.examples[0]}`);
    });
  }

  test("edgetrain help CMD prints exactly what CMD --help prints", async () => {
    const viaHelp = await runMain(["help", "status"]);
    const viaFlag = await runMain(["status", "--help"]);
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toBe(viaFlag.stdout);
    expect((await runMain(["status", "-h"])).stdout).toBe(viaFlag.stdout);
  });

  test("help is wrapped to the terminal's width on a terminal, and to 100 columns otherwise", async () => {
    const widest = (text: string) => Math.max(...text.split("\n").map((line) => line.length));
    expect(widest((await runMain(["train", "--help"], { columns: 80 })).stdout)).toBeLessThanOrEqual(80);
    expect(widest((await runMain(["train", "--help"])).stdout)).toBeLessThanOrEqual(100);
  });

  test("--version and version print the version and build", async () => {
    for (const argv of [["--version"], ["-v"], ["version"]]) {
      const { code, stdout } = await runMain(argv);
      expect(code).toBe(0);
      expect(stdout).toMatch(/^edgetrain \d+\.\d+\.\d+ \(/);
    }
  });
});
