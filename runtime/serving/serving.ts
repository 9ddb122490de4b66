import { isAbsolute, join } from "node:path";
import { durationMs } from "../config/duration.ts";
import type { Profile } from "../config/schema.ts";
import type { Events } from "../events/bus.ts";
import { loadOnnxRuntime } from "../inference/onnx-runtime.ts";
import { SessionPool } from "../inference/session-pool.ts";
import type { CacheHooks, Clock, Logger, ResolvedPaths } from "../plugin-api.ts";
import { systemClock } from "../plugins/context.ts";
import { instantiate } from "../plugins/instantiate.ts";
import type { PluginRegistry } from "../plugins/registry.ts";
import type { StateDatabase } from "../state/database.ts";
import { ModelStore } from "../store/model-store.ts";
import { ModelActivator } from "./model-activator.ts";
import type { PredictionListener } from "./prediction.ts";
import { PredictionService } from "./prediction-service.ts";
import { ServingReadiness } from "./serving-readiness.ts";

export interface Serving {
  store: ModelStore;
  pool: SessionPool;
  cache: CacheHooks;
  cacheType: string;
  service: PredictionService;
  activator: ModelActivator;
  readiness: ServingReadiness;
}

export interface ServingParts {
  profile: Profile;
  paths: ResolvedPaths;
  registry: PluginRegistry;
  state: StateDatabase;
  logger: Logger;
  events: Events;
  clock?: Clock;
  /** True while a training run on the model is in progress. */
  busy: (model: string) => boolean;
  onPrediction?: PredictionListener;
}

/** The model store, ONNX Runtime sessions, the cache plugin and the services over them, from the profile. */
export async function createServing(parts: ServingParts): Promise<Serving> {
  const { profile, paths, registry, state, logger, events } = parts;
  const clock = parts.clock ?? systemClock;
  const store = new ModelStore(paths.models, state.db, profile.models.keep_versions, events, logger);
  const pool = new SessionPool({
    runtime: () => loadOnnxRuntime({ preference: profile.inference.backend, cacheDir: paths.cache, logger }),
    memoryBudgetMb: profile.inference.memory_budget_mb,
    maxLoaded: profile.inference.max_loaded,
    minResidenceMs: durationMs(profile.inference.min_residence),
    clock,
    accelerator: profile.device.accelerator,
    threads: profile.inference.threads,
    treeEnsembles: profile.inference.tree_ensembles,
    maxBatchRows: profile.inference.max_batch_rows,
    logger,
    events,
  });
  // cache.max_entries is the memory bound of the memory and tiered caches; cache.options may still override it.
  const options = {
    ...(profile.cache.type !== "disk" ? { max_entries: profile.cache.max_entries } : {}),
    ...profile.cache.options,
  };
  const cache = await instantiate("cache", profile.cache.type, options, {
    plugins: registry,
    logger: logger.child({ cache: profile.cache.type }),
    paths,
    clock,
    events,
    store: state.pluginStore(`cache/${profile.cache.type}`),
  });
  const pregenerateFile = profile.cache.pregenerate.file;
  const service = new PredictionService({
    store,
    pool,
    cache,
    clock,
    logger,
    ...servingLimits(profile),
    busy: parts.busy,
    pregenerateFile:
      pregenerateFile === undefined
        ? undefined
        : isAbsolute(pregenerateFile)
          ? pregenerateFile
          : join(paths.home, pregenerateFile),
    pregenerateTop: profile.cache.pregenerate.top,
    onPrediction: parts.onPrediction,
  });
  const activator = new ModelActivator(store, pool, service, logger, events);
  const readiness = new ServingReadiness(store, pool);
  return { store, pool, cache, cacheType: profile.cache.type, service, activator, readiness };
}

/** What a reload changes in serving without a restart: the rows a request may carry, and the cache's ages. */
export function servingLimits(profile: Profile): { maxRows: number; ttlMs: number; ttlDuringTrainingMs: number } {
  return {
    maxRows: profile.api.max_rows,
    ttlMs: durationMs(profile.cache.ttl),
    ttlDuringTrainingMs: durationMs(profile.cache.ttl_during_training),
  };
}
