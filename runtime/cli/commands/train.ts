import { join } from "node:path";
import type { RunQueued } from "../../api/contract.ts";
import type { Profile } from "../../config/schema.ts";
import { ConflictClearance, describePredictors, UnattendedAsker } from "../../conflicts/clearance.ts";
import { deploymentText } from "../../deploy/deployment.ts";
import { cancellation, EdgetrainError, ExitCode } from "../../errors.ts";
import { makeHomeFolder } from "../../files/make-home-folder.ts";
import { ResourceSampler } from "../../governor/sampler.ts";
import { LogSink, logFileOptions } from "../../log/logger.ts";
import type { Logger, ResolvedPaths } from "../../plugin-api.ts";
import { systemClock } from "../../plugins/context.ts";
import { Disposals } from "../../services/disposals.ts";
import { Services } from "../../services/services.ts";
import type { StateDatabase } from "../../state/database.ts";
import { ignoredInWords, type RunOverrides, runOverrides } from "../../training/run-overrides.ts";
import { type Command, type CommandIo, stringFlag } from "../command.ts";
import { askDaemon } from "../daemon-client.ts";
import { homeOptions, openHomeStateAt, resolveHomeProfile } from "../home.ts";
import { stderrLine, takeHomeTurn } from "../home-turn.ts";
import { writeAnswer, writeJson } from "../json-answer.ts";
import { progressBar } from "../progress-bar.ts";
import { abortOnStopSignals } from "../stop-signals.ts";
import { metricsText } from "../table.ts";
import { TerminalAsker } from "../terminal-asker.ts";

interface ConflictParts {
  profile: Profile;
  paths: ResolvedPaths;
  io: CommandIo;
  state: StateDatabase;
  logger: Logger;
}

/** The job's not_during predictors, under its policy: on a terminal `ask` prompts with a countdown. */
async function clearOfPredictors(job: string, ignoreConflicts: boolean, parts: ConflictParts): Promise<boolean> {
  const { profile, paths, io, state, logger } = parts;
  const attended = io.stderr.isTTY && Boolean(process.stdin.isTTY);
  const asker = attended ? new TerminalAsker(io.stderr) : new UnattendedAsker();
  const clearance = new ConflictClearance({
    profile,
    home: paths.home,
    clock: systemClock,
    asker,
    logger,
    procRoot: join(io.environment.hostRoot, "proc"),
    by: "edgetrain train",
    record: (type, data) => {
      state.recordEvent(type, data);
      if (type === "run.deferred") io.stderr.write(`edgetrain: job ${job} ${(data as { reason: string }).reason}\n`);
    },
  });
  const verdict = await clearance.clear({ job, policy: ignoreConflicts ? "force" : undefined });
  if (verdict.to === "start") return true;
  const said =
    verdict.cause === "skip"
      ? `skipped job ${job}: ${describePredictors(verdict.predictors)} is predicting`
      : `job ${job} ${verdict.reason}`;
  io.stderr.write(`edgetrain: ${said}\n`);
  state.recordEvent("run.skipped", { job, reason: verdict.reason, predictors: verdict.predictors });
  return false;
}

/** The flags a run was started with, for its trigger: ` --force`, ` --ignore-conflicts`, or nothing. */
function flagsOf(overrides: RunOverrides): string {
  if (overrides.ignoreGovernor && overrides.ignoreConflicts) return " --force";
  const governor = overrides.ignoreGovernor ? " --ignore-governor" : "";
  return `${governor}${overrides.ignoreConflicts ? " --ignore-conflicts" : ""}`;
}

/** What the daemon made of the request, in a line: queued, already queued (and now ignoring…), running. */
function takenInWords(job: string, key: string | undefined, taken: RunQueued, pid: number): string {
  const anew = taken.keys.filter((k) => k.result === "queued");
  if (anew.length === 0) return `${taken.reason} (daemon pid ${pid})`;
  const named = anew.flatMap((k) => (k.key === null ? [] : [k.key]));
  const some = named.length > 3 ? `${named.length} keys` : named.join(", ");
  const which = key ? ` for ${key}` : anew.length < taken.keys.length && some ? ` for ${some}` : "";
  const ignoring = ignoredInWords({ ignoreGovernor: taken.ignore_governor, ignoreConflicts: taken.ignore_conflicts });
  const queued = `queued ${job}${which} in the daemon (pid ${pid})${ignoring ? `, ${ignoring}` : ""}`;
  return taken.reason ? `${queued}; ${taken.reason}` : queued;
}

export const trainCommand: Command = {
  name: "train",
  summary: "run a profile job now, for all its keys or one",
  description:
    "Runs the job as the scheduler would: its strategy (or a score job's scoring), options and data source, one " +
    "run per key, each recorded in the home's state with its folder under runs/. The governor is asked first: when " +
    "the machine is busy the run is deferred with the reason (exit 5). Then the job's live predictors " +
    "(constraints.not_during), under its conflict policy: a run they refuse exits 5 too.\n\n" +
    "--ignore-governor and --ignore-conflicts lift one of the two, --force both; each run then says so in a " +
    "warning naming the job and key. A run that ignores conflicts also writes its files (copy-to-dir) past live " +
    "predictors.\n\n" +
    "Exit 1 if a run fails. When a daemon runs on the home, the run is queued there instead, with the same flags: " +
    "a job already queued there takes the flags given, and one already running is refused (exit 5).",
  arguments: [{ name: "job", description: "the profile's job to run" }],
  options: {
    key: { type: "string", value: "KEY", description: "only this key (a player, a device…)" },
    "ignore-governor": {
      type: "boolean",
      description: "run even when the governor says the host is busy; never pause",
    },
    "ignore-conflicts": { type: "boolean", description: "train and copy while the job's live predictors run" },
    force: { type: "boolean", description: "both --ignore-governor and --ignore-conflicts" },
    json: {
      type: "boolean",
      description: "print {job, runs: [...]} as JSON (with queued: true when a daemon took it)",
    },
    ...homeOptions,
  },
  examples: [
    "edgetrain train activity",
    "edgetrain train activity --key player_7 --ignore-conflicts",
    "edgetrain train activity --key player_7 --force --json",
  ],
  async run(args, io) {
    const [jobName] = args.positionals;
    if (!jobName) throw new EdgetrainError("usage", "edgetrain train: name the job (edgetrain train JOB)");
    const resolved = await resolveHomeProfile(args, io);
    const { profile, paths } = resolved;
    const overrides = runOverrides({
      force: Boolean(args.values.force),
      ignoreGovernor: Boolean(args.values["ignore-governor"]),
      ignoreConflicts: Boolean(args.values["ignore-conflicts"]),
    });
    const waiting = new AbortController();
    const stopWaiting = abortOnStopSignals(waiting, (signal) => cancellation("person", `interrupted (${signal})`));
    const turn = await takeHomeTurn(paths.home, stderrLine(io), waiting.signal).finally(stopWaiting);
    if ("daemon" in turn) {
      const { daemon } = turn;
      // The daemon owns this home's runs: hand the request to its queue rather than train beside it.
      const key = stringFlag(args, "key");
      const { ignoreGovernor: ignore_governor, ignoreConflicts: ignore_conflicts } = overrides;
      const body = { ...(key ? { key } : {}), ignore_governor, ignore_conflicts };
      // Runs already in progress for every key come back as already_running (exit 5).
      const taken = await askDaemon(args, io, (api) =>
        api.v1.jobs({ name: encodeURIComponent(jobName) }).run.post(body),
      );
      const { queued, keys, reason } = taken;
      const answer = { job: jobName, key: key ?? null, queued, keys, reason, daemon_pid: daemon.pid, runs: [] };
      const said = takenInWords(jobName, key, taken, daemon.pid);
      writeAnswer(io, args, answer, `${said}; follow it with edgetrain status\n`);
      return 0;
    }
    let logs: LogSink | undefined;
    let state: StateDatabase;
    try {
      // The profile may keep its logs outside the home, where no folder can be made.
      makeHomeFolder(paths.home, [paths.logs]);
      logs = new LogSink({
        level: profile.logging.level,
        ...logFileOptions(profile.logging, paths.logs),
        console: {
          write: (text) => io.stderr.write(text),
          isTTY: io.stderr.isTTY,
          color: io.color,
          journal: io.stderr.journal,
        },
        consoleLevel: "warn",
      });
      state = openHomeStateAt(paths);
    } catch (error) {
      // A home that cannot be opened is left unlocked, as it was found.
      logs?.close();
      turn.lock.release();
      throw error;
    }
    const logger = logs.logger();
    const opened = new Disposals(logger);
    try {
      // --ignore-governor: neither admitted nor paused by the governor. Without a daemon the model still
      // goes into the store and through the job's deploy steps.
      const governed = !overrides.ignoreGovernor;
      const built = await Services.build({ resolved, environment: io.environment, state, logger, governed }, opened);
      const { runner, governor, copies } = built;
      // An unknown job is the user's mistake, whatever the machine's load: say so first.
      runner.jobNamed(jobName);
      // No daemon runs on this home: the trainers and deploys a crash left are this process's to finish.
      await runner.recover();
      // Without a daemon nobody retries the copies predictors held up: each train looks once.
      copies.retry();
      if (governed) {
        const sampler = new ResourceSampler(io.environment.hostRoot);
        sampler.sample();
        await Bun.sleep(500);
        governor.observe(sampler.sample());
        const admission = governor.admit();
        if (!admission.ok) {
          state.recordEvent("run.deferred", { job: jobName, reason: admission.reason, trigger: "manual" });
          const hint = "try later, or --ignore-governor to run anyway";
          throw new EdgetrainError("deferred", `job ${jobName} deferred: ${admission.reason}`, { hint });
        }
        if (admission.note) logger.warn(admission.note, { job: jobName });
      }
      const parts = { profile, paths, io, state, logger };
      const clear = await clearOfPredictors(jobName, Boolean(overrides.ignoreConflicts), parts);
      if (!clear) return ExitCode.refused;
      const bar = progressBar(io.stderr, jobName);
      const abort = new AbortController();
      const stopListening = abortOnStopSignals(abort, (signal) => cancellation("person", `interrupted (${signal})`));
      const trigger = `manual: edgetrain train${flagsOf(overrides)}`;
      const key = stringFlag(args, "key");
      const request = { job: jobName, key, trigger, signal: abort.signal, progress: bar, ...overrides };
      const outcomes = await runner.run(request).finally(() => {
        bar.finish();
        stopListening();
      });
      if (args.values.json) writeJson(io, { job: jobName, runs: outcomes });
      else {
        for (const outcome of outcomes) {
          const metrics = metricsText(outcome.metrics, 4);
          const deployed = outcome.deployment ? `; ${deploymentText(outcome.deployment)}` : "";
          const failed = outcome.error ? `: ${outcome.error}` : "";
          const result = `${outcome.status}${metrics ? `, ${metrics}` : ""}${failed}`;
          io.stdout.write(`${outcome.key ?? jobName}: ${result}${deployed}  (run ${outcome.run})\n`);
        }
      }
      return outcomes.every((outcome) => outcome.status === "succeeded") ? 0 : 1;
    } finally {
      await opened.dispose();
      state.close();
      logs.close();
      turn.lock.release();
    }
  },
};
