/**
 * The training thread: runs one strategy run — data loading, training, evaluation, ONNX export — or one
 * score run away from the daemon's main thread, which keeps answering predictions without stalls.
 * Everything the strategy
 * reports (logs, events, progress) is posted back; pause, thread allowance and cancel arrive as messages.
 */
import { Database } from "bun:sqlite";
import { pathToFileURL } from "node:url";
import { builtinPlugins } from "../../plugins/index.ts";
import { scoreInThread } from "../batch-scoring/score-in-thread.ts";
import type { ScoreRunSpec } from "../batch-scoring/score-run-spec.ts";
import { loadTrainingData } from "../data/load-training-data.ts";
import { EdgetrainError } from "../errors.ts";
import { writeNow } from "../files/disk-space.ts";
import { runCapacity } from "../governor/run-capacity.ts";
import type { Level } from "../log/logger.ts";
import { lowerThisThread } from "../os/thread-priority.ts";
import type { Logger, PluginStore, TrainingData } from "../plugin-api.ts";
import { registryOf } from "../plugins/registry.ts";
import { heldOutRows } from "../scoring/score-version.ts";
import { pluginStore } from "../state/database.ts";
import { recordRunProcess } from "./leftover-trainers.ts";
import { PauseSwitch } from "./pause-switch.ts";
import { runStrategy } from "./run-strategy.ts";
import { errorToThread, type FromThread, type StrategyRunSpec, type ToThread } from "./strategy-thread-protocol.ts";
import { ThreadAllowance } from "./thread-allowance.ts";

declare const self: Worker;

const post = (message: FromThread) => self.postMessage(message);
// A throw that escapes train() (from a callback: a trainer's output handler) fails the run with its own message and
// code. Left to the thread's error event, it reaches the daemon as Bun's report, which quotes the source around it.
self.addEventListener("error", (event) => {
  post({ type: "failed", error: errorToThread(event.error ?? event.message) });
  event.preventDefault();
});
const abort = new AbortController();
const pause = new PauseSwitch();
const threads = new ThreadAllowance();

function threadLogger(fields: Record<string, unknown> = {}): Logger {
  const log = (level: Level) => (message: string, extra?: Record<string, unknown>) =>
    post({ type: "log", level, message, fields: { ...fields, ...extra } });
  return {
    debug: log("debug"),
    info: log("info"),
    warn: log("warn"),
    error: log("error"),
    child: (more) => threadLogger({ ...fields, ...more }),
  };
}

/** The thread imports the run's plugin again (modules do not cross threads) and registers it alone. */
async function pluginModule(kind: "strategy" | "score", plugin: StrategyRunSpec["plugin"]): Promise<unknown> {
  const found =
    plugin.source === "built-in"
      ? builtinPlugins.find((candidate) => candidate.kind === kind && candidate.name === plugin.name)
      : ((await import(pathToFileURL(plugin.source).href)) as { default?: unknown }).default;
  const failed = `the training thread could not load ${kind} "${plugin.name}" from ${plugin.source}`;
  if (!found) throw new EdgetrainError("plugin_load_failed", failed);
  return found;
}

/** The thread's own connection to the state database, opened on first use: most runs never need it. */
function connection(file: string, opened: { db?: Database }): Database {
  if (!opened.db) {
    opened.db = new Database(file, { strict: true });
    opened.db.exec("PRAGMA busy_timeout = 5000;");
  }
  return opened.db;
}

function lazyStore(file: string, name: string, opened: { db?: Database }): PluginStore {
  let store: PluginStore | undefined;
  const open = () => {
    store ??= pluginStore(connection(file, opened), name);
    return store;
  };
  return {
    get: (key) => open().get(key),
    set: (key, value) => open().set(key, value),
    delete: (key) => open().delete(key),
    keys: () => open().keys(),
  };
}

/**
 * Records the run's processes in this thread, before their event crosses to the daemon's: a daemon killed a
 * moment after a trainer started still leaves the record its next start stops the trainer by.
 */
function processRecorder(spec: StrategyRunSpec, opened: { db?: Database }) {
  const { run, stateFile } = spec;
  if (run === undefined) return undefined;
  return (worker: unknown, pid: number) =>
    recordRunProcess({ db: connection(stateFile, opened), writes: writeNow }, run, worker, pid);
}

/** The governor's switches as the run starts, and the thread's priority lowered to the training class. */
function prepare(spec: { paused: boolean; threads?: number }, priority: StrategyRunSpec["priority"]): void {
  pause.set(spec.paused);
  threads.set(spec.threads);
  threads.onUsing((count) => post({ type: "using", count }));
  const lowered = lowerThisThread(priority.class, priority.nice);
  const logger = threadLogger();
  if (lowered.class === "unchanged") {
    logger.debug("could not lower the training thread's priority; it trains at normal priority", { ...priority });
  } else if (lowered.class !== priority.class) {
    logger.debug("the idle scheduling class is not available here; training at training_nice", { nice: priority.nice });
  }
}

const progress = {
  update: (done: number, total: number, message?: string) => post({ type: "progress", done, total, message }),
};
const events = { emit: (name: string, data: Record<string, unknown>) => post({ type: "event", name, data }) };

async function run(spec: StrategyRunSpec): Promise<void> {
  prepare(spec, spec.priority);
  const opened: { db?: Database } = {};
  let loaded: Promise<TrainingData> | undefined;
  const loadData = () => {
    if (!spec.data) throw new EdgetrainError("data_invalid", `job ${spec.job} has no data section`);
    loaded ??= loadTrainingData(spec.data, { dataRoot: spec.paths.data, key: spec.key, now: spec.now });
    return loaded;
  };
  try {
    const plugins = registryOf([await pluginModule("strategy", spec.plugin)], spec.plugin.source);
    const result = await runStrategy({
      strategy: spec.plugin.name,
      options: spec.options,
      scope: {
        plugins,
        defaults: spec.defaults,
        logger: threadLogger(),
        paths: spec.paths,
        events,
        store: lazyStore(spec.stateFile, spec.storeName, opened),
      },
      job: spec.job,
      key: spec.key,
      runDir: spec.runDir,
      data: spec.data,
      loadData,
      previousArtifact: spec.previousArtifact,
      workers: spec.workers,
      memoryLimitMb: spec.memoryLimitMb,
      capacity: spec.capacity && runCapacity(spec.capacity),
      pause,
      threads,
      signal: abort.signal,
      progress,
      onProcess: processRecorder(spec, opened),
    });
    const heldOut = spec.wantHeldOut && spec.data ? heldOutRows(await loadData()) : undefined;
    post({ type: "succeeded", result, heldOut });
  } catch (error) {
    post({ type: "failed", error: errorToThread(error) });
  } finally {
    opened.db?.close();
  }
}

async function score(spec: ScoreRunSpec): Promise<void> {
  prepare(spec, spec.runtime.priority);
  const opened: { db?: Database } = {};
  try {
    const plugins = registryOf([await pluginModule("score", spec.plugin)], spec.plugin.source);
    const store = lazyStore(spec.stateFile, spec.storeName, opened);
    const scope = { plugins, logger: threadLogger(), paths: spec.paths, events, store };
    const outcome = await scoreInThread(spec, { scope, pause, threads, signal: abort.signal, progress });
    post({ type: "scored", outcome });
  } catch (error) {
    post({ type: "failed", error: errorToThread(error) });
  } finally {
    opened.db?.close();
  }
}

self.onmessage = (event: MessageEvent<ToThread>) => {
  const message = event.data;
  if (message.type === "start") void run(message.spec);
  else if (message.type === "score") void score(message.spec);
  else if (message.type === "pause") pause.set(message.paused);
  else if (message.type === "threads") threads.set(message.allowed);
  else abort.abort(message.reason);
};
