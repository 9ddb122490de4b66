import { dataFiles } from "../data/changes.ts";
import type {
  Clock,
  EventSink,
  JobInfo,
  Logger,
  PluginContext,
  PluginStore,
  ProgressReporter,
  Readings,
  ResolvedPaths,
} from "../plugin-api.ts";
import { pluginLibraries } from "./registry.ts";

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  setInterval: (callback, ms) => setInterval(callback, ms),
  clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
};

/** A plugin store kept in memory, for one-shot commands without a state database. */
export function memoryStore(): PluginStore {
  const values = new Map<string, unknown>();
  return {
    get: <T>(key: string) => values.get(key) as T | undefined,
    set: (key, value) => void values.set(key, structuredClone(value)),
    delete: (key) => void values.delete(key),
    keys: () => [...values.keys()].sort(),
  };
}

export interface ContextParts {
  options: unknown;
  logger: Logger;
  paths: ResolvedPaths;
  store?: PluginStore;
  clock?: Clock;
  events?: EventSink;
  signal?: AbortSignal;
  progress?: ProgressReporter;
  readings?: () => Readings | undefined;
  job?: JobInfo;
}

/** The one place a PluginContext is assembled; options are frozen so plugins cannot change them. */
export function pluginContext<Options>(parts: ContextParts): PluginContext<Options> {
  return {
    options: Object.freeze(parts.options) as Readonly<Options>,
    logger: parts.logger,
    paths: Object.freeze({ ...parts.paths }),
    store: parts.store ?? memoryStore(),
    clock: parts.clock ?? systemClock,
    events: parts.events ?? { emit() {} },
    signal: parts.signal ?? new AbortController().signal,
    progress: parts.progress ?? { update() {} },
    readings: parts.readings ?? (() => undefined),
    libraries: pluginLibraries,
    job: parts.job,
    data: dataFiles(parts.paths.data, parts.job?.data),
  };
}
