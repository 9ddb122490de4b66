import type { Tree } from "../config/merge.ts";
import { messageOf } from "../errors.ts";
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
  /**
   * Called with each process the strategy announces (`run.process`), before the event goes on: the run records it
   * in this thread at once, so that a crash a moment later still leaves the record the next start stops it by.
   */
  onProcess?: (worker: unknown, pid: number) => void;
}

/**
 * Runs a strategy in the calling thread: starts it through the host and trains with a checkpoint() that
 * honours cancel, governor.memory_limit_mb, pause and thread allowance. The training thread, `edgetrain fit`
 * and the tests all run strategies through here.
 */
export async function runStrategy(run: StrategyRun): Promise<TrainResult> {
  const { strategy, options, scope, onCheckpoint, onProcess, ...request } = run;
  const pause = run.pause ?? new PauseSwitch();
  const threads = run.threads ?? new ThreadAllowance();
  const progress = run.progress ?? { update() {} };
  // A record that cannot be written (a full disk) costs only what it would save after a crash, not the run.
  const recordProcess = (worker: unknown, pid: number) => {
    try {
      onProcess?.(worker, pid);
    } catch (error) {
      const why = { job: run.job, key: run.key, worker, pid, error: messageOf(error) };
      scope.logger.warn("could not record a trainer's process; a crash now would leave it running", why);
    }
  };
  const events = {
    emit: (type: string, data: Record<string, unknown>) => {
      if (type === "run.process" && typeof data.pid === "number") recordProcess(data.worker, data.pid);
      scope.events?.emit(type, data);
    },
  };
  const hooks = await instantiate("strategy", strategy, options, { ...scope, events, signal: run.signal, progress });
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
