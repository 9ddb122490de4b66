import type { CommandIo, Output } from "../../runtime/cli/command.ts";
import { main } from "../../runtime/cli/main.ts";
import { testEnvironment } from "../helpers.ts";

function recorder(columns?: number): Output & { text: string } {
  const output = {
    text: "",
    isTTY: columns !== undefined,
    columns,
    write: (text: string) => void (output.text += text),
  };
  return output;
}

/** Runs the CLI in this process, as from a pipe (or a terminal `columns` wide), and keeps what it printed. */
export async function runMain(argv: string[], options: { home?: string; columns?: number } = {}) {
  const stdout = recorder(options.columns);
  const stderr = recorder(options.columns);
  const io: CommandIo = {
    stdout,
    stderr,
    environment: testEnvironment(options.home ?? "/nonexistent-home"),
    color: false,
  };
  const code = await main(argv, io);
  return { code, stdout: stdout.text, stderr: stderr.text };
}
