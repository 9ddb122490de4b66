import { parseArgs, type ParseArgsConfig } from "node:util";
import type { Environment } from "../environment.ts";
import { EdgetrainError } from "../errors.ts";

export interface Output {
  write(text: string): void;
  isTTY: boolean;
}

export interface CommandIo {
  stdout: Output;
  stderr: Output;
  environment: Environment;
  color: boolean;
}

type Options = NonNullable<ParseArgsConfig["options"]>;

export interface Command {
  name: string;
  /** One line for `edgetrain --help`. */
  summary: string;
  /** Full help: usage line, what it does, options. */
  help: string;
  options: Options;
  run(args: ParsedArgs, io: CommandIo): Promise<number>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

/** Parses strictly: an unknown flag is a usage error naming it, not silently ignored. */
export function parseCommandArgs(command: Command, argv: string[]): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { ...command.options, help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true });
    return { values: values as ParsedArgs["values"], positionals };
  } catch (error) {
    throw new EdgetrainError("usage", `edgetrain ${command.name}: ${(error as Error).message.replace(/\. To specify.*$/s, "")}`, { hint: `see edgetrain ${command.name} --help` });
  }
}

/** Someone at a keyboard: stdout draws on a terminal and stdin reads from one (the TUI needs both). */
export function interactiveTerminal(io: CommandIo): boolean {
  return io.stdout.isTTY && Boolean(process.stdin.isTTY);
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === "string" ? value : undefined;
}

export function portFlag(args: ParsedArgs): number | undefined {
  const text = stringFlag(args, "port");
  if (text === undefined) return undefined;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new EdgetrainError("usage", `--port ${text}: expected a port number from 0 to 65535`);
  return port;
}

export function limitFlag(args: ParsedArgs, fallback: number): number {
  const text = stringFlag(args, "limit");
  const limit = Number(text ?? fallback);
  if (!Number.isInteger(limit) || limit < 1) throw new EdgetrainError("usage", `--limit ${text}: expected a positive whole number`);
  return limit;
}
