import type { ScoreOutcome, ScoreRunSpec } from "../batch-scoring/score-run-spec.ts";
import { messageOf } from "../errors.ts";
import type {
  DataTable,
  EventSink,
  Logger,
  PauseState,
  ProgressReporter,
  TrainingThreads,
  TrainResult,
} from "../plugin-api.ts";
import { errorFromThread, type FromThread, type StrategyRunSpec, type ToThread } from "./strategy-thread-protocol.ts";

// A compiled binary holds the thread's module as an extra entry point under its source path from the
// project root (scripts/build.ts); from source it sits next to this file.
const THREAD_MODULE = Bun.isStandaloneExecutable
  ? "./runtime/training/strategy-worker.ts"
  : new URL("./strategy-worker.ts", import.meta.url).href;

/** How long a cancelled run may take to reach its next checkpoint before its thread is stopped outright. */
const CANCEL_GRACE_MS = 15_000;

export interface ThreadBridge {
  logger: Logger;
  events: EventSink;
  progress: ProgressReporter;
  pause: PauseState;
  threads: TrainingThreads;
  signal: AbortSignal;
  /** How long a cancelled run may take to stop by itself (default 15 s). */
  cancelGraceMs?: number;
}

export interface StrategyRunOutcome {
  result: TrainResult;
  heldOut?: DataTable;
}

/**
 * Runs a strategy run in its own thread, relaying its logs, events and progress, and pause, thread allowance
 * and cancel to it. Whether it starts paused, and on how many threads, is read from the bridge, whose states
 * also carry every change after.
 */
export function runStrategyInThread(
  spec: Omit<StrategyRunSpec, "paused" | "threads">,
  bridge: ThreadBridge,
): Promise<StrategyRunOutcome> {
  const start = (paused: boolean, threads?: number): ToThread => ({
    type: "start",
    spec: { ...spec, paused, threads },
  });
  const ended = (message: FromThread) =>
    message.type === "succeeded" ? { result: message.result, heldOut: message.heldOut } : undefined;
  return runInThread(start, bridge, ended);
}

/** Runs a score job's run in the same kind of thread, with the same relays: scoring is a run's work too. */
export function runScoreInThread(
  spec: Omit<ScoreRunSpec, "paused" | "threads">,
  bridge: ThreadBridge,
): Promise<ScoreOutcome> {
  const start = (paused: boolean, threads?: number): ToThread => ({
    type: "score",
    spec: { ...spec, paused, threads },
  });
  return runInThread(start, bridge, (message) => (message.type === "scored" ? message.outcome : undefined));
}

/** Starts the thread with `start`, relays until it ends, and resolves with what `ended` reads from its last message. */
function runInThread<T>(
  start: (paused: boolean, threads?: number) => ToThread,
  bridge: ThreadBridge,
  ended: (message: FromThread) => T | undefined,
): Promise<T> {
  const thread = new Worker(THREAD_MODULE);
  const send = (message: ToThread) => thread.postMessage(message);
  return new Promise<T>((resolve, reject) => {
    let grace: ReturnType<typeof setTimeout> | undefined;
    const unsubscribePause = bridge.pause.subscribe((paused) => send({ type: "pause", paused }));
    const unsubscribeThreads = bridge.threads.subscribe((allowed) => send({ type: "threads", allowed }));
    const onAbort = () => {
      send({
        type: "abort",
        reason: bridge.signal.reason === undefined ? "cancelled" : messageOf(bridge.signal.reason),
      });
      const graceMs = bridge.cancelGraceMs ?? CANCEL_GRACE_MS;
      grace = setTimeout(
        () =>
          finish(() =>
            reject(
              new Error(
                `run cancelled: ${messageOf(bridge.signal.reason)}; the strategy did not stop within ` +
                  `${graceMs / 1000} s, so its thread was stopped`,
              ),
            ),
          ),
        graceMs,
      );
    };
    const finish = (settle: () => void) => {
      clearTimeout(grace);
      unsubscribePause();
      unsubscribeThreads();
      bridge.signal.removeEventListener("abort", onAbort);
      thread.terminate();
      settle();
    };
    thread.onmessage = (event: MessageEvent<FromThread>) => {
      const message = event.data;
      if (message.type === "log") bridge.logger[message.level](message.message, message.fields);
      else if (message.type === "event") bridge.events.emit(message.name, message.data);
      else if (message.type === "progress") bridge.progress.update(message.done, message.total, message.message);
      else if (message.type === "using") bridge.threads.using(message.count);
      else if (message.type === "failed") finish(() => reject(errorFromThread(message.error)));
      else {
        const outcome = ended(message);
        const unexpected = new Error(`the training thread ended with ${message.type}`);
        finish(() => (outcome === undefined ? reject(unexpected) : resolve(outcome)));
      }
    };
    thread.onerror = (event) => finish(() => reject(new Error(`the training thread failed: ${event.message}`)));
    bridge.signal.addEventListener("abort", onAbort, { once: true });
    send(start(bridge.pause.paused, bridge.threads.allowed));
    if (bridge.signal.aborted) onAbort();
  });
}
