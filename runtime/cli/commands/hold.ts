import { constants } from "node:os";
import { join } from "node:path";
import type { Profile } from "../../config/schema.ts";
import { holdLockfile } from "../../conflicts/predictors.ts";
import { EdgetrainError, suggestionHint } from "../../errors.ts";
import { makeHomeFolder } from "../../files/make-home-folder.ts";
import { acquireLock } from "../../locks/lockfile.ts";
import { liveTrainingLocks } from "../../locks/training-locks.ts";
import type { Command } from "../command.ts";
import { homeOptions, loadValidHomeProfile } from "../home.ts";

const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"] as const;

export const holdCommand: Command = {
  name: "hold",
  summary: "run any command under a predictor lock, so training keeps away from it",
  description:
    "Runs COMMAND while holding the predictor lock NAME (<home>/locks/predictor-NAME.lock: pid, process start time, " +
    "host, command). Jobs whose constraints.not_during lists NAME treat it as a live predictor, so an existing " +
    "script gets protection without changes; a NAME no job lists is warned of, and held all the same.\n\n" +
    "The lock goes when COMMAND ends, on signals too (they are passed on to COMMAND); its exit code is edgetrain's. " +
    "Put -- before COMMAND so that its own flags are not read as edgetrain's.",
  arguments: [
    { name: "name", description: "the predictor's name, as jobs list it in constraints.not_during" },
    { name: "command", variadic: true, description: "the command to run under the lock, and its arguments" },
  ],
  options: {
    "respect-training": {
      type: "boolean",
      description: "start COMMAND only when no training run holds its training lock",
    },
    json: {
      type: "boolean",
      description: "edgetrain's own errors as {code, message, hint} on stderr (COMMAND's output is its own)",
    },
    ...homeOptions,
  },
  examples: [
    "edgetrain hold game-server -- ./serve --port 9000",
    "edgetrain hold nightly-report --respect-training -- python3 report.py",
  ],
  async run(args, io) {
    const [name, ...command] = args.positionals;
    if (!name || command.length === 0)
      throw new EdgetrainError("usage", "edgetrain hold: expected NAME -- COMMAND [ARGS…]");
    const { loaded, paths } = loadValidHomeProfile(args, io);
    const locksDir = join(paths.home, "locks");
    // A home where no lock can be taken is the error to give, alone: the warning is for a hold that happens.
    makeHomeFolder(paths.home, [locksDir]);
    const unheeded = unheededHold(loaded.profile, name);
    if (unheeded) io.stderr.write(`warning: ${unheeded}\n`);
    if (args.values["respect-training"]) {
      let said = 0;
      for (let running = liveTrainingLocks(locksDir); running.length > 0; running = liveTrainingLocks(locksDir)) {
        if (Date.now() - said > 10_000) {
          io.stderr.write(
            `edgetrain hold: waiting for ${running.length} training run(s) to finish (${running.join(", ")})\n`,
          );
          said = Date.now();
        }
        await Bun.sleep(500);
      }
    }
    const lock = acquireLock(holdLockfile(locksDir, name), `predictor ${name}`);
    let child: ReturnType<typeof Bun.spawn> | undefined;
    const forward = (signal: (typeof FORWARDED)[number]) => () => child?.kill(signal);
    const handlers = FORWARDED.map((signal) => [signal, forward(signal)] as const);
    for (const [signal, handler] of handlers) process.on(signal, handler);
    try {
      try {
        child = Bun.spawn(command, { stdio: ["inherit", "inherit", "inherit"] });
      } catch (error) {
        throw new EdgetrainError(
          "bad_input",
          `edgetrain hold: cannot start ${command[0]}: ${(error as Error).message}`,
        );
      }
      const code = await child.exited;
      const signal = child.signalCode;
      return signal ? 128 + (constants.signals[signal as keyof typeof constants.signals] ?? 0) : code;
    } finally {
      for (const [signal, handler] of handlers) process.off(signal, handler);
      lock.release();
    }
  },
};

/**
 * Why no job would keep away from a hold of `name`, if none would: a job heeds it only through a predictor of
 * that name listed in its constraints.not_during. A warning, not a refusal: the profile may name it by the next
 * reload, and the lock is taken either way.
 */
function unheededHold(profile: Profile, name: string): string | undefined {
  const predictors = profile.conflicts.predictors.map((predictor) => predictor.name);
  if (!predictors.includes(name)) {
    const known = `predictors: ${predictors.join(", ") || "none (add them under conflicts.predictors)"}`;
    return (
      `no predictor "${name}" in the profile, so no job keeps away from this hold ` +
      `(${suggestionHint(name, predictors, known)})`
    );
  }
  if (!Object.values(profile.jobs).some((job) => job.constraints.not_during?.includes(name)))
    return `no job lists predictor "${name}" in constraints.not_during, so no job keeps away from this hold`;
  return undefined;
}
