#!/usr/bin/env bun
import { armCrashPoint } from "../deploy/crash-points.ts";
import { readEnvironment } from "../environment.ts";
import { EdgetrainError, ExitCode, messageOf } from "../errors.ts";
import { isDiskFull } from "../files/disk-full.ts";
import { build, VERSION } from "../version.ts";
import { PROBE_COMMAND, probeInProcess } from "../inference/probe.ts";
import { parseCommandArgs, type Command, type CommandIo } from "./command.ts";
import { checkCommand } from "./commands/check.ts";
import { demoCommand } from "./commands/demo.ts";
import { tuiCommand } from "./commands/tui.ts";
import { activateCommand, cacheCommand, modelCommand, modelsCommand, rollbackCommand } from "./commands/models.ts";
import { decisionsCommand } from "./commands/decisions.ts";
import { fitCommand } from "./commands/fit.ts";
import { holdCommand } from "./commands/hold.ts";
import { predictCommand } from "./commands/predict.ts";
import { planCommand } from "./commands/plan.ts";
import { pluginsCommand } from "./commands/plugins.ts";
import { profileCommand } from "./commands/profile.ts";
import { runCommand } from "./commands/run.ts";
import { cancelCommand, pauseCommand, resumeCommand } from "./commands/run-control.ts";
import { runsCommand } from "./commands/runs.ts";
import { statusCommand } from "./commands/status.ts";
import { trainCommand } from "./commands/train.ts";
import { serviceCommand } from "./commands/service.ts";
import { setupCommand } from "./commands/setup.ts";
import { validateCommand } from "./commands/validate.ts";

const commands: Command[] = [demoCommand, setupCommand, checkCommand, validateCommand, profileCommand, pluginsCommand, runCommand, statusCommand, planCommand, trainCommand, runsCommand, decisionsCommand, cancelCommand, pauseCommand, resumeCommand, fitCommand, predictCommand, modelsCommand, modelCommand, activateCommand, rollbackCommand, cacheCommand, holdCommand, serviceCommand, tuiCommand];

const EXIT_CODES = `Exit codes: 0 ok · 1 problems found (invalid profile, failed check) · 2 usage · 3 profile
invalid, nothing started · 4 plugin failed to load · 5 refused (home locked, unsafe bind, disk of the home
full) · 70 internal error`;

function mainHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return `edgetrain ${VERSION} — keeps ML models fresh on the device itself

Usage: edgetrain <command> [options]

Commands:
${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n")}

Options:
  -h, --help     help for edgetrain or a command (edgetrain run --help)
  -v, --version  print the version

Environment: EDGETRAIN_HOME (home folder), EDGETRAIN_PROFILE (profile name or file), NO_COLOR.
${EXIT_CODES}
`;
}

export async function main(argv: string[], io: CommandIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    io.stdout.write(mainHelp());
    return first === undefined ? ExitCode.usage : ExitCode.ok;
  }
  if (first === "--version" || first === "-v" || first === "version") {
    io.stdout.write(`edgetrain ${VERSION} (${build.target}, ${build.commit})\n`);
    return ExitCode.ok;
  }
  if (first === PROBE_COMMAND) {
    // Internal: `edgetrain check` loads ONNX Runtime here, in a child, so a crashing library cannot take it down.
    io.stdout.write(JSON.stringify(await probeInProcess(JSON.parse(rest[0] ?? "{}"))) + "\n");
    return ExitCode.ok;
  }
  const command = commands.find((c) => c.name === first);
  try {
    if (!command) throw new EdgetrainError("usage", `unknown command "${first}"`, { hint: `commands: ${commands.map((c) => c.name).join(", ")}` });
    armCrashPoint(io.environment.crashAt);
    const args = parseCommandArgs(command, rest);
    if (args.values.help) {
      io.stdout.write(`${command.help}\n\n${EXIT_CODES}\n`);
      return ExitCode.ok;
    }
    return await command.run(args, io);
  } catch (error) {
    return reportError(error, io);
  }
}

function reportError(error: unknown, io: CommandIo): number {
  if (error instanceof EdgetrainError) {
    io.stderr.write(`edgetrain: ${error.message}\n`);
    const problems = error.details.problems;
    if (Array.isArray(problems)) for (const problem of problems.slice(0, 20)) io.stderr.write(`  ${problem}\n`);
    if (error.hint) io.stderr.write(`  hint: ${error.hint}\n`);
    return error.exitCode;
  }
  // Not a bug, so no stack: a write somewhere found the disk full (the daemon names its home itself).
  if (isDiskFull(error)) return reportError(new EdgetrainError("disk_full", `the disk is full: ${messageOf(error)}`, { hint: "free space on it, or use another home with --home" }), io);
  io.stderr.write(`edgetrain: internal error: ${messageOf(error)}\n${error instanceof Error && error.stack ? error.stack + "\n" : ""}`);
  return ExitCode.internal;
}

if (import.meta.main) {
  // `edgetrain predict … | head` closes the pipe early; that is the reader's choice, not an error.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0);
    throw error;
  });
  const environment = readEnvironment();
  const output = (stream: NodeJS.WriteStream) => ({ write: (text: string) => void stream.write(text), isTTY: Boolean(stream.isTTY) });
  const io: CommandIo = { stdout: output(process.stdout), stderr: output(process.stderr), environment, color: Boolean(process.stdout.isTTY) && !environment.noColor };
  process.exitCode = await main(process.argv.slice(2), io);
}
