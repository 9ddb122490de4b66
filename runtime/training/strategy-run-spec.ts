import { durationMs } from "../config/duration.ts";
import type { Job, Profile } from "../config/schema.ts";
import { trainingPriority } from "../os/thread-priority.ts";
import type { ResolvedPaths } from "../plugin-api.ts";
import type { StrategyRunSpec } from "./strategy-thread-protocol.ts";

export interface StrategyRun {
  profile: Profile;
  paths: ResolvedPaths;
  stateFile: string;
  /** The run's id, which the processes the strategy starts are recorded under. */
  run: string;
  plugin: { name: string; source: string };
  job: string;
  spec: Job;
  key: string | undefined;
  runDir: string;
  /** The artifact a warm start continues from. */
  previousArtifact: string | undefined;
  /** Where the run reads the machine's free memory and GPU (`/` and the PATH by default). */
  host?: { root: string; toolPath?: string };
  /** Whether the run keeps held-out rows, for a deployer's gate and health check. */
  wantHeldOut: boolean;
}

/** What a job's run hands its strategy thread: the plugin, the job's options and data, and the governor's limits. */
export function strategyRunSpec(run: StrategyRun): Omit<StrategyRunSpec, "paused" | "threads"> {
  const { profile, paths, job, key, runDir, spec } = run;
  const { name } = run.plugin;
  return {
    plugin: run.plugin,
    options: spec.options,
    defaults: profile.defaults.strategies,
    paths,
    stateFile: run.stateFile,
    storeName: `strategy/${name}`,
    run: run.run,
    job,
    key,
    runDir,
    data: spec.data,
    previousArtifact: run.previousArtifact,
    workers: profile.governor.workers,
    memoryLimitMb: profile.governor.memory_limit_mb,
    capacity: {
      memoryReserveMb: profile.governor.memory_reserve_mb,
      gpuMemoryFraction: profile.governor.gpu_memory_fraction,
      maxPauseMs: durationMs(profile.governor.max_pause),
      hostRoot: run.host?.root ?? "/",
      toolPath: run.host?.toolPath,
    },
    priority: trainingPriority(profile.governor),
    wantHeldOut: run.wantHeldOut,
    now: Date.now(),
  };
}
