import { Argument, Command as Parser, CommanderError, Help, Option } from "commander";
import { EdgetrainError, ExitCode } from "../errors.ts";
import type { ArgumentSpec, Command, CommandIo, OptionSpec, ParsedArgs } from "./command.ts";

/** What the command line asks for: a command to run, or an exit code when help or the version was printed. */
export type CommandLine = { command: Command; args: ParsedArgs } | { exit: number };

export interface HelpTexts {
  /** Under the usage line of `edgetrain --help`. */
  description: string;
  /** After the command list of `edgetrain --help`. */
  mainFooter: string;
  /** After the examples of every command's help. */
  commandFooter: string;
  version: string;
}

/** commander with our command table: it parses and writes help; errors it throws are worded and printed by us. */
export function parseCommandLine(commands: readonly Command[], argv: string[], io: CommandIo, texts: HelpTexts): CommandLine {
  let chosen: CommandLine | undefined;
  const width = io.stdout.columns ?? 100;
  // Help text added after commander's sections is not wrapped by it.
  const wrap = (text: string) => new Help().boxWrap(text, width);
  const program = new Parser("edgetrain")
    .description(texts.description)
    .usage("<command> [options]")
    .version(texts.version, "-v, --version", "print the version")
    .helpOption("-h, --help", "show help for edgetrain or a command")
    .helpCommand("help [command]", "show help for a command, as COMMAND --help does")
    // The command list shows names only; each command's own help shows its arguments.
    .configureHelp({ subcommandTerm: (command) => command.name() })
    .addHelpText("after", `\n${wrap(texts.mainFooter)}`)
    // Program options only before the command: `edgetrain hold NAME -- cmd -v` passes -v to cmd.
    .enablePositionalOptions()
    .showSuggestionAfterError(false)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: () => {},
      getOutHelpWidth: () => width,
      getErrHelpWidth: () => io.stderr.columns ?? 100,
    });
  for (const command of commands) {
    const parser = program.command(command.name).summary(command.summary).description(command.description).helpOption("-h, --help", "show this help");
    for (const argument of command.arguments ?? []) parser.addArgument(argumentOf(argument));
    for (const [name, spec] of Object.entries(command.options)) parser.addOption(optionOf(name, spec));
    parser.addHelpText("after", `\nExamples:\n${command.examples.map((line) => `  ${line}`).join("\n")}\n\n${wrap(texts.commandFooter)}`);
    parser.action(() => {
      chosen = { command, args: argsOf(parser, command) };
    });
  }
  if (argv.length === 0) {
    program.outputHelp();
    return { exit: ExitCode.usage };
  }
  try {
    program.parse(argv, { from: "user" });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    // Help and the version end the parse by throwing too, with exit code 0.
    if (error.exitCode === 0) return { exit: ExitCode.ok };
    throw new EdgetrainError("usage", error.message.replace(/^error: /, ""), { hint: "see edgetrain --help" });
  }
  return chosen ?? { exit: ExitCode.ok };
}

function optionOf(name: string, spec: OptionSpec): Option {
  const flags = `${spec.short ? `-${spec.short}, ` : ""}--${name}${spec.type === "string" ? ` <${spec.value ?? "VALUE"}>` : ""}`;
  const option = new Option(flags, spec.multiple ? `${spec.description} (repeatable)` : spec.description);
  return spec.multiple ? option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]) : option;
}

function argumentOf(spec: ArgumentSpec): Argument {
  const name = `${spec.name}${spec.variadic ? "..." : ""}`;
  const argument = new Argument(spec.optional ? `[${name}]` : `<${name}>`, spec.description);
  return spec.choices ? argument.choices(spec.choices) : argument;
}

/** The parsed flags under the names the command declared (`on-bad-cell`, not commander's `onBadCell`). */
function argsOf(parser: Parser, command: Command): ParsedArgs {
  const values: ParsedArgs["values"] = {};
  for (const option of parser.options) {
    const name = option.long?.replace(/^--/, "");
    if (name && name in command.options) values[name] = parser.getOptionValue(option.attributeName()) as ParsedArgs["values"][string];
  }
  return { values, positionals: [...parser.args] };
}
