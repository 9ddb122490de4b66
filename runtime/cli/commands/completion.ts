import type { Command } from "../command.ts";
import { completionScript, SHELLS, type Shell } from "../completion.ts";

/** `edgetrain completion SHELL`; the table is handed in, since it lists this command too. */
export function completionCommand(commands: () => readonly Command[]): Command {
  return {
    name: "completion",
    summary: "print the shell completion script for bash, zsh or fish",
    description:
      "Prints a script that completes edgetrain's commands, their flags and the words their arguments accept. It is " +
      "written from the same table as the help, so it knows every command of this version.",
    arguments: [{ name: "shell", choices: SHELLS, description: "bash, zsh or fish" }],
    options: {
      json: { type: "boolean", description: "errors as {code, message, hint} on stderr (the script itself is shell)" },
    },
    examples: [
      "source <(edgetrain completion bash)",
      'edgetrain completion zsh > "${fpath[1]}/_edgetrain"',
      "edgetrain completion fish > ~/.config/fish/completions/edgetrain.fish",
    ],
    async run(args, io) {
      io.stdout.write(completionScript(args.positionals[0] as Shell, commands()));
      return 0;
    },
  };
}
