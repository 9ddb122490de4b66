#!/usr/bin/env bun
import { armCrashPoint } from "../deploy/crash-points.ts";
import { readEnvironment } from "../environment.ts";
import { ExitCode } from "../errors.ts";
import { PROBE_COMMAND, probeInProcess } from "../inference/probe.ts";
import { isJournalStream } from "../log/journal-stream.ts";
import { build, VERSION } from "../version.ts";
import type { CommandIo } from "./command.ts";
import { type HelpTexts, parseCommandLine } from "./command-line.ts";
import { commands } from "./command-table.ts";
import { reportError, wantsJson } from "./error-output.ts";

const EXIT_CODES = `Exit codes:
  ${ExitCode.ok}   ok
  ${ExitCode.problems}   problems found: invalid profile, failed check, failed run, bad input
  ${ExitCode.usage}   usage: the command line is wrong
  ${ExitCode.config}   the profile is invalid; nothing was started
  ${ExitCode.plugin}   a plugin failed to load
  ${ExitCode.refused}   refused: home locked, unsafe bind, run deferred by the governor, disk of the home full
  ${ExitCode.internal}  internal error`;

const HELP: HelpTexts = {
  description: `edgetrain ${VERSION} — keeps ML models fresh on the device itself`,
  mainFooter:
    `Environment: EDGETRAIN_HOME (home folder), EDGETRAIN_PROFILE (profile name or file), ` +
    `NO_COLOR.\n\n${EXIT_CODES}`,
  commandFooter:
    `Exit codes: ${ExitCode.ok} ok · ${ExitCode.problems} problems · ${ExitCode.usage} usage · ` +
    `${ExitCode.config} profile invalid · ${ExitCode.plugin} plugin · ${ExitCode.refused} refused · ` +
    `${ExitCode.internal} internal`,
  version: `edgetrain ${VERSION} (${build.target}, ${build.platform}, ${build.commit})`,
};

export async function main(argv: string[], io: CommandIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === "version") argv = ["--version"];
  if (first === PROBE_COMMAND) {
    // Internal: `edgetrain check` loads ONNX Runtime here, in a child, so a crashing library cannot take it down.
    io.stdout.write(`${JSON.stringify(await probeInProcess(JSON.parse(rest[0] ?? "{}")))}\n`);
    return ExitCode.ok;
  }
  try {
    const line = parseCommandLine(commands, argv, io, HELP);
    if ("exit" in line) return line.exit;
    armCrashPoint(io.environment.crashAt);
    return await line.command.run(line.args, io);
  } catch (error) {
    return reportError(error, io, wantsJson(argv));
  }
}

if (import.meta.main) {
  // `edgetrain predict … | head` closes the pipe early; that is the reader's choice, not an error.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0);
    throw error;
  });
  const environment = readEnvironment();
  const output = (stream: NodeJS.WriteStream) => ({
    write: (text: string) => void stream.write(text),
    isTTY: Boolean(stream.isTTY),
    columns: stream.isTTY ? stream.columns : undefined,
  });
  const io: CommandIo = {
    stdout: output(process.stdout),
    stderr: { ...output(process.stderr), journal: isJournalStream(environment.journalStream) },
    environment,
    color: Boolean(process.stdout.isTTY) && !environment.noColor,
  };
  process.exitCode = await main(process.argv.slice(2), io);
}
