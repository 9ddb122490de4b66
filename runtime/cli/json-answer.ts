import type { CommandIo, ParsedArgs } from "./command.ts";

/** A command's answer in JSON on stdout: one line, or indented where a person is expected to read it too. */
export function writeJson(io: CommandIo, value: unknown, options: { indent?: boolean } = {}): void {
  io.stdout.write(JSON.stringify(value, null, options.indent ? 2 : undefined) + "\n");
}

/** The answer of a command that says what it did: `json` with --json, else the sentence. */
export function writeAnswer(io: CommandIo, args: ParsedArgs, json: unknown, text: string): void {
  if (args.values.json) writeJson(io, json);
  else io.stdout.write(text);
}
