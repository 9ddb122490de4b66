import type { Environment } from "../environment.ts";
import { EdgetrainError } from "../errors.ts";

export interface Output {
  write(text: string): void;
  isTTY: boolean;
  /** The terminal's width when this output is one; tables and help fit it. */
  columns?: number;
  /** journald's stream (systemd's JOURNAL_STREAM is this output): each line starts with its `<N>` priority. */
  journal?: boolean;
}

export interface CommandIo {
  stdout: Output;
  stderr: Output;
  environment: Environment;
  color: boolean;
}

/** One flag of a command, as its help, the parser and the completion scripts see it. */
export interface OptionSpec {
  /** `string` takes a value (`--home DIR`); `boolean` is a switch (`--force`). */
  type: "string" | "boolean";
  /** One letter: `-p` for `--profile`. */
  short?: string;
  /** Repeatable: `--data a.csv --data b.csv` keeps both, in order. */
  multiple?: boolean;
  /** The value's name in help: `DIR` in `--home DIR`. Default `VALUE`. */
  value?: string;
  description: string;
}

/** One positional argument of a command. */
export interface ArgumentSpec {
  name: string;
  description: string;
  /** Default: required. */
  optional?: boolean;
  /** Takes every remaining argument (`hold NAME -- COMMAND ARGS…`). */
  variadic?: boolean;
  /** The only words accepted; the completion scripts offer them. */
  choices?: readonly string[];
}

export interface Command {
  name: string;
  /** One line for `edgetrain --help`. */
  summary: string;
  /** What it does, under the usage line of its help: one line per paragraph, wrapped to the terminal. */
  description: string;
  arguments?: readonly ArgumentSpec[];
  options: Readonly<Record<string, OptionSpec>>;
  /** Command lines shown under Examples in its help. */
  examples: readonly string[];
  run(args: ParsedArgs, io: CommandIo): Promise<number>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** Every command takes --json; a command that declares it itself says what its JSON holds. */
export const JSON_OPTION: OptionSpec = {
  type: "boolean",
  description: "answer in JSON; errors as {code, message, hint} on stderr",
};

/** The options a command accepts, as the parser, its help and the completion scripts see them. */
export function optionsOf(command: Command): Record<string, OptionSpec> {
  return { json: JSON_OPTION, ...command.options };
}

/** Someone at a keyboard: stdout draws on a terminal and stdin reads from one (the TUI needs both). */
export function interactiveTerminal(io: CommandIo): boolean {
  return io.stdout.isTTY && Boolean(process.stdin.isTTY);
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === "string" ? value : undefined;
}

export function listFlag(args: ParsedArgs, name: string): string[] {
  const value = args.values[name];
  return Array.isArray(value) ? value : [];
}

export function portFlag(args: ParsedArgs): number | undefined {
  const text = stringFlag(args, "port");
  if (text === undefined) return undefined;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new EdgetrainError("usage", `--port ${text}: expected a port number from 0 to 65535`);
  return port;
}

export function limitFlag(args: ParsedArgs, fallback: number): number {
  const text = stringFlag(args, "limit");
  const limit = Number(text ?? fallback);
  if (!Number.isInteger(limit) || limit < 1)
    throw new EdgetrainError("usage", `--limit ${text}: expected a positive whole number`);
  return limit;
}
