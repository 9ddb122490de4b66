import { type Command, type OptionSpec, optionsOf } from "./command.ts";

/**
 * Completion scripts for bash, zsh and fish, written from the command table: every command, its flags
 * (with the ones that take a value) and the words its choice arguments accept. After a flag that takes a
 * value, and for other arguments, the shell completes file names.
 */
export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof SHELLS)[number];

/** What the scripts know of one command; `help` is one too, taking a command name. */
interface Entry {
  name: string;
  summary: string;
  options: [string, OptionSpec][];
  /** Words each positional argument accepts, in order; empty for free text. */
  positionals: { name: string; words: readonly string[]; variadic: boolean }[];
}

const HELP_FLAG: OptionSpec = { type: "boolean", short: "h", description: "show this help" };

function entriesOf(commands: readonly Command[]): Entry[] {
  const entries: Entry[] = commands.map((command) => ({
    name: command.name,
    summary: command.summary,
    options: [...Object.entries(optionsOf(command)), ["help", HELP_FLAG]],
    positionals: (command.arguments ?? []).map((argument) => ({
      name: argument.name,
      words: argument.choices ?? [],
      variadic: Boolean(argument.variadic),
    })),
  }));
  const names = commands.map((command) => command.name);
  return [
    ...entries,
    {
      name: "help",
      summary: "show help for a command",
      options: [],
      positionals: [{ name: "command", words: names, variadic: false }],
    },
  ];
}

export function completionScript(shell: Shell, commands: readonly Command[]): string {
  const entries = entriesOf(commands);
  return shell === "bash" ? bashScript(entries) : shell === "zsh" ? zshScript(entries) : fishScript(entries);
}

const flagsOf = ([name, spec]: [string, OptionSpec]) => [`--${name}`, ...(spec.short ? [`-${spec.short}`] : [])];

function bashScript(entries: Entry[]): string {
  const cases = entries.map((entry) => {
    const flags = entry.options.flatMap(flagsOf).join(" ");
    const valued = entry.options
      .filter(([, spec]) => spec.type === "string")
      .flatMap(flagsOf)
      .join(" ");
    const words = entry.positionals.flatMap((positional) => positional.words).join(" ");
    return `    ${entry.name}) flags="${flags}"; valued="${valued}"; words="${words}" ;;`;
  });
  return `# bash completion for edgetrain, written by \`edgetrain completion bash\`.
# Load it with: source <(edgetrain completion bash)   (or save it in /etc/bash_completion.d/edgetrain)
_edgetrain() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]}
  if [[ $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=($(compgen -W "${entries.map((entry) => entry.name).join(" ")} --help --version" -- "$cur"))
    return
  fi
  local flags="" valued="" words=""
  case \${COMP_WORDS[1]} in
${cases.join("\n")}
  esac
  # A flag that takes a value: leave it to file names (complete -o default).
  [[ " $valued " == *" $prev "* ]] && return
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
    return
  fi
  # A choice already given: what follows is free text or a file.
  local word
  for word in "\${COMP_WORDS[@]:2:COMP_CWORD-2}"; do [[ " $words " == *" $word "* ]] && return; done
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _edgetrain edgetrain
`;
}

/** zsh: inside single quotes only ' needs care; inside an _arguments [description], brackets do too. */
const zshQuoted = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;
const zshDescription = (text: string) => text.replace(/[[\]\\]/g, "\\$&");

function zshScript(entries: Entry[]): string {
  const commandList = entries.map((entry) => `    ${zshQuoted(`${entry.name}:${entry.summary}`)}`).join("\n");
  const cases = entries.map((entry) => {
    const specs = entry.options.map(([name, spec]) => {
      const repeat = spec.multiple ? "*" : "";
      const description = `[${zshDescription(spec.description)}]`;
      const value = spec.type === "string" ? `:${spec.value ?? "VALUE"}:_files` : "";
      if (!spec.short) return zshQuoted(`${repeat}--${name}${description}${value}`);
      const exclusive = zshQuoted(`${repeat ? "*" : `(-${spec.short} --${name})`}`);
      return `${exclusive}{-${spec.short},--${name}}${zshQuoted(`${description}${value}`)}`;
    });
    const positionals = entry.positionals.map((positional, index) => {
      if (positional.variadic) return zshQuoted(`*::${positional.name}:_normal`);
      return zshQuoted(
        `${index + 1}:${positional.name}:${positional.words.length ? `(${positional.words.join(" ")})` : "_files"}`,
      );
    });
    return (
      `    ${entry.name})\n      _arguments -s \\\n        ` +
      `${[...specs, ...positionals].join(" \\\n        ")}\n      ;;`
    );
  });
  return `#compdef edgetrain
# zsh completion for edgetrain, written by \`edgetrain completion zsh\`.
# Load it with: source <(edgetrain completion zsh)   (or save it as _edgetrain in a folder of $fpath)
_edgetrain() {
  local -a commands
  commands=(
${commandList}
  )
  if (( CURRENT == 2 )); then
    _describe -t commands 'edgetrain command' commands
    return
  fi
  # From here on the command is word 1, as _arguments expects.
  (( CURRENT-- ))
  shift words
  case $words[1] in
${cases.join("\n")}
  esac
}
# Autoloaded from $fpath, this file is the body of _edgetrain: complete now. Sourced, register.
if [[ $funcstack[1] == _edgetrain ]]; then
  _edgetrain "$@"
else
  compdef _edgetrain edgetrain
fi
`;
}

/** fish: single quotes, with \\ and ' escaped. */
const fishQuoted = (text: string) => `'${text.replace(/[\\']/g, "\\$&")}'`;

function fishScript(entries: Entry[]): string {
  const lines = [
    "# fish completion for edgetrain, written by `edgetrain completion fish`.",
    "# Load it with: edgetrain completion fish | source   (or save it in ~/.config/fish/completions/edgetrain.fish)",
    "complete -c edgetrain -n __fish_use_subcommand -f",
    "complete -c edgetrain -n __fish_use_subcommand -s h -l help -d 'show help'",
    "complete -c edgetrain -n __fish_use_subcommand -s v -l version -d 'print the version'",
  ];
  for (const entry of entries) {
    lines.push(`complete -c edgetrain -n __fish_use_subcommand -a ${entry.name} -d ${fishQuoted(entry.summary)}`);
    const when = `-n '__fish_seen_subcommand_from ${entry.name}'`;
    for (const [name, spec] of entry.options) {
      lines.push(
        `complete -c edgetrain ${when}${spec.short ? ` -s ${spec.short}` : ""} -l ` +
          `${name}${spec.type === "string" ? " -r" : ""} -d ${fishQuoted(spec.description)}`,
      );
    }
    const words = entry.positionals.flatMap((positional) => positional.words);
    if (words.length) lines.push(`complete -c edgetrain ${when} -f -a ${fishQuoted(words.join(" "))}`);
  }
  return `${lines.join("\n")}\n`;
}
