import { Argument, CommanderError, Help, Option, Command as Parser } from "commander";
import { EdgetrainError, ExitCode, notFound } from "../errors.ts";
import {
  type ArgumentSpec,
  type Command,
  type CommandIo,
  type OptionSpec,
  optionsOf,
  type ParsedArgs,
} from "./command.ts";

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

/**
 * commander calls these methods when the command line is wrong (they are its hooks, not in its typings);
 * here they throw usage errors that name the word at fault and the closest one known.
 */
class StrictParser extends Parser {
  override createCommand(name?: string): StrictParser {
    return new StrictParser(name);
  }

  /** `edgetrain status`, or `edgetrain` itself. */
  private get where(): string {
    return this.parent ? `edgetrain ${this.name()}` : "edgetrain";
  }

  unknownCommand(): never {
    throw unknownCommand(
      this.args[0] ?? "",
      this.commands.map((command) => command.name()),
    );
  }

  unknownOption(flag: string): never {
    const word = flag.replace(/^-+/, "");
    const longs = this.options.flatMap((option) => (option.long ? [option.long.slice(2)] : []));
    // A one-letter flag is a typo of nothing in particular: every other letter is as close.
    throw notFound("option", word, word.length > 1 ? longs : [], {
      code: "usage",
      message: `unknown option "${flag}" for "${this.where}"`,
      shown: (long) => `--${long}`,
      hint: `${this.where} --help lists its options`,
      details: {},
    });
  }

  optionMissingArgument(option: Option): never {
    throw new EdgetrainError("usage", `${option.long} for "${this.where}" needs a value: ${option.description}`, {
      hint: `see ${this.where} --help`,
    });
  }

  _excessArguments(received: string[]): never {
    const expected = this.registeredArguments.map((argument) => argument.name().toUpperCase());
    const takes = expected.length ? `it takes ${expected.join(" ")}` : "it takes no arguments";
    throw new EdgetrainError(
      "usage",
      `unexpected argument "${received[expected.length]}" for "${this.where}" (${takes})`,
      { hint: `see ${this.where} --help` },
    );
  }

  missingArgument(name: string): never {
    const argument = this.registeredArguments.find((candidate) => candidate.name() === name);
    throw new EdgetrainError(
      "usage",
      `"${this.where}" needs ${name.toUpperCase()}${argument?.description ? `: ${argument.description}` : ""}`,
      { hint: `see ${this.where} --help` },
    );
  }
}

function unknownCommand(name: string, known: string[]): EdgetrainError {
  return notFound("command", name, known, {
    code: "usage",
    message: `unknown command "${name}"`,
    hint: "edgetrain --help lists the commands",
    details: {},
  });
}

/** commander with our command table: it parses and writes help; errors are worded and printed by us. */
export function parseCommandLine(
  commands: readonly Command[],
  argv: string[],
  io: CommandIo,
  texts: HelpTexts,
): CommandLine {
  // commander answers `help NAME` for an unknown NAME with the main help and no word about NAME.
  if (argv[0] === "help" && argv[1] !== undefined && !commands.some((command) => command.name === argv[1])) {
    throw unknownCommand(
      argv[1],
      commands.map((command) => command.name),
    );
  }
  // commander prints help or the version and stops there, whatever follows: what follows is not read, so refuse it.
  const answersAlone = argv[0] === "help" ? 2 : argv[0] === "-v" || argv[0] === "--version" ? 1 : undefined;
  if (answersAlone !== undefined && argv.length > answersAlone)
    throw new EdgetrainError(
      "usage",
      `unexpected "${argv[answersAlone]}" after ${argv.slice(0, answersAlone).join(" ")}`,
      {
        hint: "see edgetrain --help",
      },
    );
  let chosen: CommandLine | undefined;
  const width = io.stdout.columns ?? 100;
  // Help text added after commander's sections is not wrapped by it.
  const wrap = (text: string) => new Help().boxWrap(text, width);
  const program = new StrictParser("edgetrain")
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
    const parser = program
      .command(command.name)
      .summary(command.summary)
      .description(command.description)
      .helpOption("-h, --help", "show this help");
    for (const argument of command.arguments ?? []) parser.addArgument(argumentOf(command, argument));
    for (const [name, spec] of Object.entries(optionsOf(command))) parser.addOption(optionOf(name, spec));
    parser.addHelpText(
      "after",
      `\nExamples:\n${command.examples.map((line) => `  ${line}`).join("\n")}\n\n${wrap(texts.commandFooter)}`,
    );
    parser.action(() => {
      chosen = { command, args: argsOf(parser) };
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
    // Any check of commander's not worded above: its own words.
    throw new EdgetrainError("usage", error.message.replace(/^error: /, ""), { hint: "see edgetrain --help" });
  }
  return chosen ?? { exit: ExitCode.ok };
}

function optionOf(name: string, spec: OptionSpec): Option {
  const short = spec.short ? `-${spec.short}, ` : "";
  const flags = `${short}--${name}${spec.type === "string" ? ` <${spec.value ?? "VALUE"}>` : ""}`;
  const option = new Option(flags, spec.multiple ? `${spec.description} (repeatable)` : spec.description);
  return spec.multiple
    ? option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value])
    : option;
}

function argumentOf(command: Command, spec: ArgumentSpec): Argument {
  const name = `${spec.name}${spec.variadic ? "..." : ""}`;
  const argument = new Argument(spec.optional ? `[${name}]` : `<${name}>`, spec.description);
  const choices = spec.choices;
  if (!choices) return argument;
  // Our own check rather than commander's choices(), for the "did you mean".
  return argument.argParser((value: string) => {
    if (choices.includes(value)) return value;
    throw notFound(spec.name, value, choices, {
      code: "usage",
      message: `unknown ${spec.name} "${value}" for "edgetrain ${command.name}"`,
      after:
        `; expected ` +
        `${choices.length > 2 ? `${choices.slice(0, -1).join(", ")} or ${choices.at(-1)}` : choices.join(" or ")}`,
      hint: `see edgetrain ${command.name} --help`,
      details: {},
    });
  });
}

/** The parsed flags under the names the command declared (`on-bad-cell`, not commander's `onBadCell`). */
function argsOf(parser: Parser): ParsedArgs {
  const values: ParsedArgs["values"] = {};
  for (const option of parser.options) {
    const name = option.long?.replace(/^--/, "");
    if (name && name !== "help")
      values[name] = parser.getOptionValue(option.attributeName()) as ParsedArgs["values"][string];
  }
  return { values, positionals: [...parser.args] };
}
