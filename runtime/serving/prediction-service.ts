import { EdgetrainError, messageOf } from "../errors.ts";
import type { ModelSignature } from "../inference/model-signature.ts";
import { type PredictionRequest, type TableRequest, toFeatureBatch } from "../inference/prediction-input.ts";
import { formatOutputs, type PredictionOutput } from "../inference/session-outputs.ts";
import type { SessionPool } from "../inference/session-pool.ts";
import { toFeeds } from "../inference/tensor-input.ts";
import type { CacheHooks, CacheStats, Clock, Logger } from "../plugin-api.ts";
import { checkModelName } from "../store/model-name.ts";
import type { ModelStore, ModelVersion } from "../store/model-store.ts";
import { cacheKey, inputHash } from "./cache-key.ts";
import { type InferRequest, type InferResponse, inferInputs, inferResponse } from "./open-inference.ts";
import { PopularInputsByModel } from "./popular-inputs.ts";
import type { Prediction, PredictionListener } from "./prediction.ts";
import { PregenerateFile } from "./pregenerate-file.ts";
import { ServingSlots } from "./serving-slots.ts";
import { byName, tensorFeeds } from "./tensor-request.ts";

interface CachedAnswer {
  outputs: PredictionOutput[];
  at: number;
}

export interface PredictionServiceOptions {
  store: ModelStore;
  pool: SessionPool;
  cache: CacheHooks;
  clock: Clock;
  logger: Logger;
  ttlMs: number;
  ttlDuringTrainingMs: number;
  maxRows: number;
  /** True while a training run on the model is in progress: its entries live ttl_during_training. */
  busy: (model: string) => boolean;
  /** `cache.pregenerate.file`: JSON lines of {model, inputs}. */
  pregenerateFile?: string;
  /** `cache.pregenerate.top`: also the most requested inputs (asked at least twice), this many per model. */
  pregenerateTop: number;
  onPrediction?: PredictionListener;
}

const POPULAR_PER_MODEL = 500;

/**
 * Answers predictions for a model's active version, through the cache. The cache key holds the model,
 * the active version and a hash of the inputs, so an activation invalidates by construction. Freshness is
 * judged here by age (ttl, or ttl_during_training while the model trains), not by the cache plugin.
 */
export class PredictionService {
  /** Per model, the inputs asked again with how often they were asked, for `pregenerate.top`. */
  private readonly popular: PopularInputsByModel;
  private readonly revalidating = new Set<string>();
  /** When each model last answered a request: edgetrain's own serving counts as a live predictor. */
  private readonly lastServed = new Map<string, number>();
  private readonly pregenerateFile?: PregenerateFile;
  private readonly slots: ServingSlots;

  constructor(private options: PredictionServiceOptions) {
    this.slots = new ServingSlots(options.pool, options.logger);
    const top = options.pregenerateTop;
    this.popular = new PopularInputsByModel(Math.max(POPULAR_PER_MODEL, top), top);
    if (options.pregenerateFile)
      this.pregenerateFile = new PregenerateFile(options.pregenerateFile, (message) => options.logger.warn(message));
  }

  /** A reloaded profile's request limit and cache ages, for the requests from now on. */
  setLimits(limits: Pick<PredictionServiceOptions, "maxRows" | "ttlMs" | "ttlDuringTrainingMs">): void {
    this.options = { ...this.options, ...limits };
  }

  predict(model: string, request: PredictionRequest): Promise<Prediction> {
    const started = performance.now();
    const answer = this.answer(model, request, started);
    // Beside the caller's await rather than around it: an await more would cost every request a turn.
    answer.catch((error: unknown) => this.refused(model, started, error));
    return answer;
  }

  private async answer(model: string, request: PredictionRequest, started: number): Promise<Prediction> {
    const active = this.activeOf(model);
    // Awaited only for a model trained elsewhere: every await costs the request a turn of the microtask queue.
    const featureNames = active.feature_names ?? (await this.slots.featureNamesOf(active));
    const byName = request.inputs !== undefined && !Array.isArray(request.inputs);
    if (!featureNames.length || byName) return this.predictTensors(active, request, started);
    const table = request as TableRequest;
    const { x, rows } = toFeatureBatch(table, featureNames, model, this.options.maxRows);
    const hash = inputHash(x);
    const key = cacheKey(model, active.version, hash);
    const now = this.options.clock.now();
    this.lastServed.set(model, now);
    const hit = this.options.cache.get(key) as CachedAnswer | undefined;
    if (this.options.pregenerateTop > 0) this.popular.note(model, hash, hit !== undefined, x, rows);
    if (hit) {
      const age = now - hit.at;
      if (age < this.options.ttlMs)
        return this.answered(model, started, { model, version: active.version, outputs: hit.outputs, cached: true });
      const busy = this.options.busy(model);
      if (busy && age < this.options.ttlDuringTrainingMs)
        return this.answered(model, started, { model, version: active.version, outputs: hit.outputs, cached: true });
      if (busy) {
        this.revalidate(active, key, x, rows);
        return this.answered(model, started, {
          model,
          version: active.version,
          outputs: hit.outputs,
          cached: true,
          stale: true,
        });
      }
    }
    const outputs = await this.compute(active, key, x, rows);
    return this.answered(model, started, { model, version: active.version, outputs, cached: false });
  }

  /**
   * Predicts without the cache: health checks after an activation must reach the model itself. A model
   * that takes no table is given one row of zeros in each input instead.
   */
  predictDirect(version: ModelVersion, inputs: number[][]): Promise<PredictionOutput[]> {
    return this.slots.predictDirect(version, inputs);
  }

  /** The serving version of a model and the inputs and outputs it declares (its session is loaded for them). */
  async signature(model: string): Promise<{ version: ModelVersion; signature: ModelSignature }> {
    const version = this.activeOf(model);
    return { version, signature: (await this.slots.serving(version)).signature };
  }

  /**
   * An Open Inference Protocol request: its tensors through the serving version, uncached. Counted as a
   * prediction like `predict`, errors included, so that metrics and the governor see this traffic too.
   */
  infer(model: string, request: InferRequest): Promise<InferResponse> {
    const started = performance.now();
    const answer = this.inferAnswer(model, request, started);
    answer.catch((error: unknown) => this.refused(model, started, error));
    return answer;
  }

  private async inferAnswer(model: string, request: InferRequest, started: number): Promise<InferResponse> {
    const active = this.activeOf(model);
    const slot = await this.slots.serving(active);
    const given = inferInputs(request, slot.signature, model);
    const { feeds, rows } = toFeeds(given, slot.signature, model, "inputs", this.options.maxRows);
    this.lastServed.set(model, this.options.clock.now());
    const response = inferResponse(model, active.version, request, await this.options.pool.runFeeds(slot, feeds, rows));
    this.options.onPrediction?.(model, "ok", (performance.now() - started) / 1000);
    return response;
  }

  /** A model that takes no single table, or tensors by name: checked against its declared inputs, run uncached. */
  private async predictTensors(active: ModelVersion, request: PredictionRequest, started: number): Promise<Prediction> {
    const { model } = active;
    const slot = await this.slots.serving(active);
    const { feeds, rows } = tensorFeeds(slot.signature, model, request, this.options.maxRows);
    this.lastServed.set(model, this.options.clock.now());
    const outputs = formatOutputs(byName(await this.options.pool.runFeeds(slot, feeds, rows)), slot.description, rows);
    return this.answered(model, started, { model, version: active.version, outputs, cached: false });
  }

  /**
   * Computes and caches answers for the inputs worth having ready: the pregenerate file's and the most
   * requested ones. Called right before a scheduled run and again after an activation.
   */
  async pregenerate(model: string): Promise<number> {
    const active = this.options.store.active(model);
    if (!active) return 0;
    const batches = [
      ...(this.pregenerateFile?.entries(model) ?? []),
      ...this.popular
        .top(model, this.options.pregenerateTop)
        .map((inputs) => ({ inputs, source: "the most requested inputs" })),
    ];
    let done = 0;
    for (const { inputs, source } of batches) {
      try {
        const featureNames = await this.slots.featureNamesOf(active);
        const { x, rows } = toFeatureBatch({ inputs }, featureNames, model, Number.MAX_SAFE_INTEGER);
        await this.compute(active, cacheKey(model, active.version, inputHash(x)), x, rows);
        done++;
      } catch (error) {
        this.options.logger.warn("could not pregenerate a prediction", {
          model,
          from: source,
          error: messageOf(error),
        });
      }
    }
    if (done) this.options.logger.info("pregenerated predictions", { model, version: active.version, entries: done });
    return done;
  }

  cacheStats(): CacheStats & { hit_rate: number } {
    const stats = this.options.cache.stats();
    const asked = stats.hits + stats.misses;
    return { ...stats, hit_rate: asked ? stats.hits / asked : 0 };
  }

  clearCache(model?: string): void {
    if (model !== undefined) this.options.store.requireVersions(model);
    this.options.cache.clear(model);
  }

  /** Models matching `pattern` (`*` as a wildcard) that answered a request within `withinMs`. */
  servedRecently(pattern: string, withinMs: number): string[] {
    const matcher = new RegExp(
      `^${pattern
        .split("*")
        .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
        .join(".*")}$`,
    );
    const since = this.options.clock.now() - withinMs;
    return [...this.lastServed].filter(([model, at]) => at >= since && matcher.test(model)).map(([model]) => model);
  }

  private activeOf(model: string): ModelVersion {
    checkModelName(model);
    const active = this.options.store.active(model);
    if (active) return active;
    const versions = this.options.store.requireVersions(model);
    throw new EdgetrainError(
      "not_found",
      `model ${model} has no active version yet (versions: ` +
        `${versions.map((v) => `${v.version} ${v.status}`).join(", ")})`,
      { details: { model } },
    );
  }

  private async compute(
    version: ModelVersion,
    key: string,
    x: Float32Array,
    rows: number,
  ): Promise<PredictionOutput[]> {
    const slot = await this.slots.serving(version);
    const outputs = await this.options.pool.run(slot, x, rows);
    // Kept twice as long as it may be served fresh, so that a busy model can still answer stale-while-revalidate.
    this.options.cache.set(
      key,
      { outputs, at: this.options.clock.now() } satisfies CachedAnswer,
      2 * Math.max(this.options.ttlMs, this.options.ttlDuringTrainingMs),
    );
    return outputs;
  }

  private revalidate(version: ModelVersion, key: string, x: Float32Array, rows: number): void {
    if (this.revalidating.has(key)) return;
    this.revalidating.add(key);
    void this.compute(version, key, x, rows)
      .catch((error) =>
        this.options.logger.warn("could not refresh a stale prediction", {
          model: version.model,
          error: messageOf(error),
        }),
      )
      .finally(() => this.revalidating.delete(key));
  }

  private answered(model: string, started: number, prediction: Prediction): Prediction {
    this.options.onPrediction?.(model, "ok", (performance.now() - started) / 1000, prediction.outputs);
    return prediction;
  }

  /** A model the store does not hold is counted without its name, so that made-up names cannot grow the metrics. */
  private refused(model: string, started: number, error: unknown): void {
    const code = error instanceof EdgetrainError ? error.code : "internal";
    let known = false;
    try {
      known = this.options.store.versions(model).length > 0;
    } catch {
      // Not a model name at all.
    }
    this.options.onPrediction?.(known ? model : "", code, (performance.now() - started) / 1000);
  }
}
