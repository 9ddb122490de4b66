import { join } from "node:path";
import type { OptionsOf, PluginContext, PluginLibraries, PluginModule, TrainRequest, TrainResult } from "../../../runtime/plugin-api.ts";
import { SupervisedTrainer, type TrainerReport } from "./supervised-trainer.ts";

const options = ({ v, duration }: PluginLibraries) =>
  v.strictObject({
    command: v.pipe(
      v.union([v.pipe(v.string(), v.minLength(1)), v.pipe(v.array(v.string()), v.minLength(1))], "a command line, or a list of program and arguments"),
      v.description('A string runs through /bin/sh -c; a list runs as is (["python3", "train.py"]).'),
    ),
    params: v.optional(v.pipe(v.record(v.string(), v.union([v.string(), v.number(), v.boolean()])), v.description("Given to the trainer as EDGETRAIN_PARAM_<NAME> and EDGETRAIN_PARAMS (JSON).")), {}),
    env: v.optional(v.record(v.string(), v.string()), {}),
    workers: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(64), v.description("Copies run side by side, each with its own id and folder.")), 1),
    heartbeat_timeout: v.optional(duration, "2m"),
    on_stall: v.optional(v.picklist(["kill", "restart"]), "kill"),
    max_restarts: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 2),
    grace_period: v.optional(duration, "10s"),
    log_tail_lines: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 100),
    select_metric: v.optional(v.pipe(v.string(), v.description("With several workers, the artifact whose metric is best; default worker 0's."))),
    select_mode: v.optional(v.picklist(["min", "max"]), "max"),
  });

type Options = OptionsOf<typeof options>;

function trainerEnvironment(settings: Options, request: TrainRequest, context: PluginContext<Options>, id: number, dir: string): Record<string, string | undefined> {
  const params = Object.fromEntries(Object.entries(settings.params).map(([name, value]) => [`EDGETRAIN_PARAM_${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`, String(value)]));
  return {
    ...process.env,
    ...settings.env,
    ...params,
    EDGETRAIN_PARAMS: JSON.stringify(settings.params),
    EDGETRAIN_RUN_DIR: dir,
    EDGETRAIN_WORKER_ID: String(id),
    EDGETRAIN_WORKERS: String(settings.workers),
    EDGETRAIN_JOB: request.job,
    EDGETRAIN_KEY: request.key ?? "",
    EDGETRAIN_DATA_DIR: context.paths.data,
    EDGETRAIN_DATA: JSON.stringify(request.data ?? {}),
    EDGETRAIN_PREVIOUS_MODEL: request.previousArtifact ?? "",
    // Python buffers stdout when it is a pipe: heartbeats would arrive late and look like a stall.
    PYTHONUNBUFFERED: "1",
  };
}

function chooseArtifact(reports: TrainerReport[], settings: Options): TrainerReport {
  if (!settings.select_metric) return reports[0]!;
  const scored = reports.filter((r) => r.artifact?.metrics[settings.select_metric!] !== undefined);
  if (scored.length === 0) return reports[0]!;
  const better = (a: number, b: number) => (settings.select_mode === "min" ? a < b : a > b);
  return scored.reduce((best, r) => (better(r.artifact!.metrics[settings.select_metric!]!, best.artifact!.metrics[settings.select_metric!]!) ? r : best));
}

async function train(context: PluginContext<Options>, request: TrainRequest): Promise<TrainResult> {
  const settings = context.options;
  const command = typeof settings.command === "string" ? ["/bin/sh", "-c", settings.command] : [...settings.command];
  const stopAll = new AbortController();
  const onAbort = () => stopAll.abort(request.signal.reason);
  request.signal.addEventListener("abort", onAbort, { once: true });
  const trainers = Array.from({ length: settings.workers }, (_, id) => {
    const dir = join(request.runDir, `worker-${id}`);
    return new SupervisedTrainer(
      id,
      dir,
      {
        command,
        env: trainerEnvironment(settings, request, context, id, dir),
        heartbeatTimeoutMs: context.libraries.durationMs(settings.heartbeat_timeout),
        onStall: settings.on_stall,
        maxRestarts: settings.max_restarts,
        graceMs: context.libraries.durationMs(settings.grace_period),
        logTailLines: settings.log_tail_lines,
        memoryLimitMb: request.memoryLimitMb,
        processGroupMembers: context.libraries.processGroupMembers,
        writeAtomically: (path, content) => context.libraries.writeAtomically(path, content),
      },
      context.events,
      request.progress,
    );
  });
  // Trainers past the governor's thread allowance are stopped like paused ones; one that finishes frees its place.
  const finished = new Set<SupervisedTrainer>();
  const follow = () => {
    const allowed = request.threads.allowed ?? trainers.length;
    trainers.filter((trainer) => !finished.has(trainer)).forEach((trainer, place) => trainer.setPaused(request.pause.paused || place >= allowed));
  };
  const unsubscribe = [request.pause.subscribe(follow), request.threads.subscribe(follow)];
  follow();
  try {
    const reports = await Promise.all(
      trainers.map(async (trainer) => {
        const report = await trainer.run(stopAll.signal);
        finished.add(trainer);
        follow();
        // One worker failing fails the run: stop the others rather than let them train for nothing.
        if (report.status !== "succeeded") stopAll.abort(report.error);
        return report;
      }),
    );
    const failed = reports.find((r) => r.status !== "succeeded" && r.status !== "cancelled") ?? reports.find((r) => r.status !== "succeeded");
    if (failed) {
      const error = new Error(request.signal.aborted ? `run cancelled: ${String(request.signal.reason ?? "cancel requested")}` : failed.error);
      Object.assign(error, { reports });
      throw error;
    }
    const chosen = chooseArtifact(reports, settings);
    context.logger.info("external trainer finished", { job: request.job, key: request.key, workers: reports.length, chosen: chosen.id });
    return {
      artifact: chosen.artifact!.path,
      metrics: chosen.artifact!.metrics,
      metadata: { strategy: "command", command, workers: reports.map(({ logTail, ...rest }) => ({ ...rest, log_tail: logTail })) },
    };
  } finally {
    unsubscribe.forEach((stop) => stop());
    request.signal.removeEventListener("abort", onAbort);
  }
}

export default {
  kind: "strategy",
  name: "command",
  version: "1.0.0",
  description: "Runs any trainer (a PyTorch script…) as supervised child processes speaking JSON lines on stdout.",
  options,
  setup: (context: PluginContext<Options>) => ({ train: (request: TrainRequest) => train(context, request) }),
} satisfies PluginModule<"strategy", ReturnType<typeof options>>;
