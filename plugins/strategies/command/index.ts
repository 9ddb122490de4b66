import { join } from "node:path";
import type {
  OptionsOf,
  PluginContext,
  PluginLibraries,
  PluginModule,
  RunCapacity,
  TrainRequest,
  TrainResult,
} from "../../../runtime/plugin-api.ts";
import { SupervisedTrainer, type TrainerReport } from "../../shared/supervised-trainer.ts";
import { watchMemory } from "./memory-watch.ts";
import { PROBE_LIMIT_MS, probeWorker, rampDecision, roomForOneMore, settled } from "./ramp.ts";

const options = ({ v, duration }: PluginLibraries) =>
  v.strictObject({
    command: v.pipe(
      v.union(
        [v.pipe(v.string(), v.minLength(1)), v.pipe(v.array(v.string()), v.minLength(1))],
        "a command line, or a list of program and arguments",
      ),
      v.description('A string runs through /bin/sh -c; a list runs as is (["python3", "train.py"]).'),
    ),
    params: v.optional(
      v.pipe(
        v.record(v.string(), v.union([v.string(), v.number(), v.boolean()])),
        v.description("Given to the trainer as EDGETRAIN_PARAM_<NAME> and EDGETRAIN_PARAMS (JSON)."),
      ),
      {},
    ),
    env: v.optional(v.record(v.string(), v.string()), {}),
    workers: v.optional(
      v.pipe(
        v.number(),
        v.integer(),
        v.minValue(1),
        v.maxValue(64),
        v.description("Copies run side by side, each with its own id and folder."),
      ),
      1,
    ),
    ramp: v.optional(
      v.pipe(
        v.picklist(["probe", "all"]),
        v.description(
          "probe: with several workers, the first runs alone until its second heartbeat (or probe_for) while its " +
            "memory is measured; the others start one at a time while one more fits governor.memory_limit_mb (the " +
            "run as a whole), the free memory less memory_reserve_mb, and gpu_memory_fraction. all: every worker at " +
            "once.",
        ),
      ),
      "probe",
    ),
    probe_for: v.optional(
      v.pipe(
        duration,
        v.description("How long the first worker is measured; default until its second heartbeat, at most 2 minutes."),
      ),
    ),
    heartbeat_timeout: v.optional(duration, "2m"),
    on_stall: v.optional(v.picklist(["kill", "restart"]), "kill"),
    max_restarts: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 2),
    grace_period: v.optional(duration, "10s"),
    log_tail_lines: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 100),
    select_metric: v.optional(
      v.pipe(v.string(), v.description("With several workers, the artifact whose metric is best; default worker 0's.")),
    ),
    select_mode: v.optional(v.picklist(["min", "max"]), "max"),
  });

type Options = OptionsOf<typeof options>;

function trainerEnvironment(
  settings: Options,
  request: TrainRequest,
  context: PluginContext<Options>,
  id: number,
  dir: string,
): Record<string, string | undefined> {
  const params = Object.fromEntries(
    Object.entries(settings.params).map(([name, value]) => [
      `EDGETRAIN_PARAM_${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`,
      String(value),
    ]),
  );
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
  return scored.reduce((best, r) =>
    better(r.artifact!.metrics[settings.select_metric!]!, best.artifact!.metrics[settings.select_metric!]!) ? r : best,
  );
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
        // The limit is the run's as a whole: one worker alone past it is stopped; several are watched together.
        memoryLimitMb: request.memoryLimitMb,
        processGroupMembers: context.libraries.processGroupMembers,
        diesWithEdgetrain: context.libraries.diesWithEdgetrain,
        writeAtomically: (path, content) => context.libraries.writeAtomically(path, content),
      },
      context.events,
      request.progress,
    );
  });
  const started: SupervisedTrainer[] = [];
  const finished = new Set<SupervisedTrainer>();
  /** Stopped because memory tightened; one cancelled through its own stop leaves the run without failing it. */
  const held = new Set<SupervisedTrainer>();
  const ownStops = new Map<SupervisedTrainer, AbortController>();
  // Trainers past the governor's thread allowance are stopped like paused ones; one that finishes frees its place.
  const follow = () => {
    const allowed = request.threads.allowed ?? trainers.length;
    const live = started.filter((trainer) => !finished.has(trainer));
    request.threads.using(live.length);
    live.forEach((trainer, place) => trainer.setPaused(request.pause.paused || place >= allowed || held.has(trainer)));
  };
  const unsubscribe = [request.pause.subscribe(follow), request.threads.subscribe(follow)];
  const runs: Array<Promise<TrainerReport>> = [];
  const launch = (trainer: SupervisedTrainer) => {
    const own = new AbortController();
    ownStops.set(trainer, own);
    started.push(trainer);
    follow();
    runs.push(
      (async () => {
        const report = await trainer.run(AbortSignal.any([stopAll.signal, own.signal]));
        finished.add(trainer);
        follow();
        // One worker failing fails the run: stop the others rather than let them train for nothing.
        if (report.status !== "succeeded" && !own.signal.aborted) stopAll.abort(report.error);
        return report;
      })(),
    );
  };
  const decide = (decision: string, fields: Record<string, unknown> = {}) => {
    context.logger.info(decision, { job: request.job, key: request.key });
    context.events.emit("run.ramp", { decision, started: started.length, workers: trainers.length, ...fields });
  };
  const capacity = request.capacity;
  let stopWatch = () => {};
  try {
    launch(trainers[0]!);
    // Watched from the start: memory may tighten while the others are still being started.
    if (trainers.length > 1 && capacity) {
      stopWatch = watchMemory(
        () => started.filter((trainer) => !finished.has(trainer)),
        capacity,
        request.memoryLimitMb,
        {
          hold: (worker, stop) => {
            const trainer = trainers[worker.id]!;
            if (stop) held.add(trainer);
            else held.delete(trainer);
            follow();
          },
          drop: (worker) =>
            ownStops.get(trainers[worker.id]!)?.abort("stopped for memory longer than governor.max_pause"),
          decided: (decision, worker) => decide(decision, { worker: worker.id }),
        },
      );
    }
    if (trainers.length > 1 && settings.ramp === "probe" && capacity) {
      const probeForMs =
        settings.probe_for === undefined
          ? undefined
          : Math.min(PROBE_LIMIT_MS, context.libraries.durationMs(settings.probe_for));
      await rampUp(trainers, launch, started, capacity, probeForMs, request, stopAll.signal, decide);
    } else trainers.slice(1).forEach(launch);
    const all = await Promise.all(runs);
    const reports = all.filter((report) => !ownStops.get(trainers[report.id]!)?.signal.aborted);
    const failed =
      reports.find((r) => r.status !== "succeeded" && r.status !== "cancelled") ??
      reports.find((r) => r.status !== "succeeded");
    if (failed) {
      const error = new Error(
        request.signal.aborted ? `run cancelled: ${String(request.signal.reason ?? "cancel requested")}` : failed.error,
      );
      Object.assign(error, { reports: all });
      throw error;
    }
    const chosen = chooseArtifact(reports, settings);
    context.logger.info("external trainer finished", {
      job: request.job,
      key: request.key,
      workers: reports.length,
      chosen: chosen.id,
    });
    return {
      artifact: chosen.artifact!.path,
      metrics: chosen.artifact!.metrics,
      metadata: {
        strategy: "command",
        command,
        workers: all.map(({ logTail, ...rest }) => ({ ...rest, log_tail: logTail })),
      },
    };
  } finally {
    stopWatch();
    unsubscribe.forEach((stop) => stop());
    request.signal.removeEventListener("abort", onAbort);
  }
}

/**
 * `ramp: probe`: the first worker runs alone until its second heartbeat (or probe_for); its peak RSS and
 * GPU memory are what each other worker is expected to need. The others start one at a time, each after
 * the previous one has beaten once, while one more still fits the run's memory limit, the free memory
 * less the reserve, and the GPU memory share.
 */
async function rampUp(
  trainers: SupervisedTrainer[],
  launch: (trainer: SupervisedTrainer) => void,
  started: SupervisedTrainer[],
  capacity: RunCapacity,
  probeForMs: number | undefined,
  request: TrainRequest,
  signal: AbortSignal,
  decide: (decision: string, fields: Record<string, unknown>) => void,
): Promise<void> {
  const need = await probeWorker(trainers[0]!, capacity, probeForMs, signal);
  let room = { fits: true, availableMb: capacity.availableMemoryMb() } as Awaited<ReturnType<typeof roomForOneMore>>;
  for (const trainer of trainers.slice(1)) {
    if (signal.aborted) break;
    room = await roomForOneMore(
      need,
      started.filter((worker) => worker.running),
      capacity,
      request.memoryLimitMb,
    );
    if (!room.fits) break;
    launch(trainer);
    await settled(trainer, probeForMs, signal);
  }
  if (signal.aborted) return;
  decide(rampDecision(started.length, trainers.length, need, room.availableMb, room.why), {
    need_mb: Math.round(need.memoryMb),
    gpu_need_mb: need.gpuMb,
    available_mb: Math.round(room.availableMb),
  });
}

export default {
  kind: "strategy",
  name: "command",
  version: "1.0.0",
  // External trainings (a PyTorch run) take hours; a day leaves room for a slow device.
  maxRuntime: "24h",
  description: "Runs any trainer (a PyTorch script…) as supervised child processes speaking JSON lines on stdout.",
  options,
  setup: (context: PluginContext<Options>) => ({ train: (request: TrainRequest) => train(context, request) }),
} satisfies PluginModule<"strategy", ReturnType<typeof options>>;
