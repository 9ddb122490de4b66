import type { Tree } from "../config/merge.ts";
import type { ProgressReporter, TrainRequest, TrainResult } from "../plugin-api.ts";
import { instantiate, type PluginScope } from "../plugins/instantiate.ts";
import { makeCheckpoint } from "./checkpoint.ts";
import { PauseSwitch } from "./pause-switch.ts";
import { ThreadAllowance } from "./thread-allowance.ts";

/** One strategy run: the plugin and its options as written, and the request but what the runner makes. */
export interface StrategyRun extends Omit<TrainRequest, "pause" | "threads" | "progress" | "checkpoint"> {
  strategy: string;
  /** Before the profile's defaults and the schema: instantiate() merges and parses them. */
  options: Tree;
  /** The run's own signal and progress reach the plugin's context too. */
  scope: Omit<PluginScope, "signal" | "progress">;
  /** The governor's pause switch; a run nobody pauses (fit, tests) gets one that stays off. */
  pause?: PauseSwitch;
  /** The governor's thread allowance; by default all threads may train. */
  threads?: ThreadAllowance;
  progress?: ProgressReporter;
  /** Called as each checkpoint() begins: tests count them, and cancel at the n-th. */
  onCheckpoint?: (worker: number) => void;
}

/**
 * Runs a strategy in the calling thread: starts it through the host and trains with a checkpoint() that
 * honours cancel, governor.memory_limit_mb, pause and thread allowance. The training thread, `edgetrain fit`
 * and the tests all run strategies through here.
 */
export async function runStrategy(run: StrategyRun): Promise<TrainResult> {
  const { strategy, options, scope, onCheckpoint, ...request } = run;
  const pause = run.pause ?? new PauseSwitch();
  const threads = run.threads ?? new ThreadAllowance();
  const progress = run.progress ?? { update() {} };
  const hooks = await instantiate("strategy", strategy, options, { ...scope, signal: run.signal, progress });
  const checkpoint = makeCheckpoint({
    signal: run.signal,
    memoryLimitMb: run.memoryLimitMb,
    whilePaused: () => pause.whilePaused(run.signal),
    whileHeldBack: (worker) => threads.whileHeldBack(worker, run.signal),
  });
  return hooks.train({
    ...request,
    pause,
    threads,
    progress,
    checkpoint: onCheckpoint ? (worker = 0) => (onCheckpoint(worker), checkpoint(worker)) : checkpoint,
  });
}
