import { EdgetrainError, messageOf, type ErrorCode } from "../errors.ts";
import { tableWidth, type ModelSignature } from "../inference/model-signature.ts";
import { toFeatureBatch, type PredictionRequest, type TableRequest } from "../inference/prediction-input.ts";
import { formatOutputs, type OutputTensor, type PredictionOutput } from "../inference/session-outputs.ts";
import { toFeeds, zeroTensors, type TensorValue } from "../inference/tensor-input.ts";
import type { SessionPool } from "../inference/session-pool.ts";
import type { CacheHooks, CacheStats, Clock, Logger } from "../plugin-api.ts";
import { checkModelName } from "../store/model-name.ts";
import type { ModelStore, ModelVersion } from "../store/model-store.ts";
import { PopularInputs } from "./popular-inputs.ts";
import { PregenerateFile } from "./pregenerate-file.ts";

export interface Prediction {
  model: string;
  version: number;
  outputs: PredictionOutput[];
  cached: boolean;
  /** Served from an expired entry while the model is busy training; a fresh answer is being computed. */
  stale?: boolean;
}

interface CachedAnswer {
  outputs: PredictionOutput[];
  at: number;
}

/**
 * Each predict request: `code` is "ok" for an answer, else the error's code; `model` is "" for a model the
 * store does not hold. `outputs` (answers only) lets a listener count the classes predicted, the fleet's
 * drift histogram.
 */
export type PredictionListener = (
  model: string,
  code: "ok" | ErrorCode,
  seconds: number,
  outputs?: readonly PredictionOutput[],
) => void;

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
  private readonly popular = new Map<string, PopularInputs>();
  private readonly revalidating = new Set<string>();
  /** When each model last answered a request: edgetrain's own serving counts as a live predictor. */
  private readonly lastServed = new Map<string, number>();
  /** `model@version` whose file failed to load while serving: logged once, not per request. */
  private readonly reportedUnloadable = new Set<string>();

  private readonly pregenerateFile?: PregenerateFile;

  constructor(private readonly options: PredictionServiceOptions) {
    if (options.pregenerateFile) this.pregenerateFile = new PregenerateFile(options.pregenerateFile, (message) => options.logger.warn(message));
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
    const featureNames = active.feature_names ?? (await this.featureNamesOf(active));
    const byName = request.inputs !== undefined && !Array.isArray(request.inputs);
    if (!featureNames.length || byName) return this.predictTensors(active, request, started);
    const table = request as TableRequest;
    const { x, rows } = toFeatureBatch(table, featureNames, model, this.options.maxRows);
    const hash = inputHash(x);
    const key = cacheKey(model, active.version, hash);
    const now = this.options.clock.now();
    this.lastServed.set(model, now);
    const hit = this.options.cache.get(key) as CachedAnswer | undefined;
    this.remember(model, hash, hit !== undefined, table, featureNames);
    if (hit) {
      const age = now - hit.at;
      if (age < this.options.ttlMs) return this.answered(model, started, { model, version: active.version, outputs: hit.outputs, cached: true });
      const busy = this.options.busy(model);
      if (busy && age < this.options.ttlDuringTrainingMs) return this.answered(model, started, { model, version: active.version, outputs: hit.outputs, cached: true });
      if (busy) {
        this.revalidate(active, key, x, rows);
        return this.answered(model, started, { model, version: active.version, outputs: hit.outputs, cached: true, stale: true });
      }
    }
    const outputs = await this.compute(active, key, x, rows);
    return this.answered(model, started, { model, version: active.version, outputs, cached: false });
  }

  /**
   * Predicts without the cache: health checks after an activation must reach the model itself. A model
   * that takes no table is given one row of zeros in each input instead.
   */
  async predictDirect(version: ModelVersion, inputs: number[][]): Promise<PredictionOutput[]> {
    const slot = await this.slotOf(version);
    const { signature, description } = slot;
    if (tableWidth(signature) === undefined && signature.inputs.length && !description.feature_names.length) {
      const { feeds, rows } = toFeeds(zeroTensors(signature), signature, version.model, "health", Number.MAX_SAFE_INTEGER);
      return formatOutputs(byName(await this.options.pool.runFeeds(slot, feeds, rows)), description, rows);
    }
    const width = description.feature_names.length;
    // The store knew no features (an imported model): the row of zeros is as wide as the model's table.
    const rowsIn = inputs.map((row) => (row.length ? row : new Array<number>(width).fill(0)));
    const { x, rows } = toFeatureBatch({ inputs: rowsIn }, description.feature_names, version.model, Number.MAX_SAFE_INTEGER);
    return this.options.pool.run(slot, x, rows);
  }

  /** The serving version of a model and the inputs and outputs it declares (its session is loaded for them). */
  async signature(model: string): Promise<{ version: ModelVersion; signature: ModelSignature }> {
    const version = this.activeOf(model);
    return { version, signature: (await this.servingSlot(version)).signature };
  }

  /** Runs tensors by input name through the serving version, uncached: the raw outputs (Open Inference Protocol). */
  async tensors(model: string, given: Record<string, TensorValue>, field: string): Promise<TensorAnswer> {
    const active = this.activeOf(model);
    const slot = await this.servingSlot(active);
    const { feeds, rows } = toFeeds(given, slot.signature, model, field, this.options.maxRows);
    this.lastServed.set(model, this.options.clock.now());
    return { version: active.version, rows, outputs: await this.options.pool.runFeeds(slot, feeds, rows) };
  }

  /** A model that takes no single table, or tensors by name: checked against its declared inputs, run uncached. */
  private async predictTensors(active: ModelVersion, request: PredictionRequest, started: number): Promise<Prediction> {
    const { model } = active;
    const slot = await this.servingSlot(active);
    const { inputs } = slot.signature;
    const names = inputs.map((i) => i.name);
    if (request.rows) {
      const message = `rows: model ${model} names no features; give "inputs" by input name (${names.join(", ")})`;
      throw new EdgetrainError("bad_input", message, { details: { field: "rows" } });
    }
    if (Array.isArray(request.inputs) && inputs.length !== 1) {
      const form = `{"inputs": {${names.map((name) => `"${name}": …`).join(", ")}}}`;
      const message = `inputs: model ${model} takes ${inputs.length} inputs; give them by name: ${form}`;
      throw new EdgetrainError("bad_input", message, { details: { field: "inputs" } });
    }
    const given = Array.isArray(request.inputs) ? { [inputs[0]!.name]: request.inputs } : (request.inputs ?? {});
    const { feeds, rows } = toFeeds(given, slot.signature, model, "inputs", this.options.maxRows);
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
    const batches = [...(this.pregenerateFile?.entries(model) ?? []), ...this.topInputs(model).map((inputs) => ({ inputs, source: "the most requested inputs" }))];
    let done = 0;
    for (const { inputs, source } of batches) {
      try {
        const featureNames = await this.featureNamesOf(active);
        const { x, rows } = toFeatureBatch({ inputs }, featureNames, model, Number.MAX_SAFE_INTEGER);
        await this.compute(active, cacheKey(model, active.version, inputHash(x)), x, rows);
        done++;
      } catch (error) {
        this.options.logger.warn("could not pregenerate a prediction", { model, from: source, error: messageOf(error) });
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
    const matcher = new RegExp(`^${pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
    const since = this.options.clock.now() - withinMs;
    return [...this.lastServed].filter(([model, at]) => at >= since && matcher.test(model)).map(([model]) => model);
  }

  private activeOf(model: string): ModelVersion {
    checkModelName(model);
    const active = this.options.store.active(model);
    if (active) return active;
    const versions = this.options.store.requireVersions(model);
    throw new EdgetrainError("not_found", `model ${model} has no active version yet (versions: ${versions.map((v) => `${v.version} ${v.status}`).join(", ")})`, { details: { model } });
  }

  /** From the store's record; a model trained elsewhere names them only in its file, so its session is loaded. */
  private async featureNamesOf(version: ModelVersion): Promise<string[]> {
    return version.feature_names ?? (await this.servingSlot(version)).description.feature_names;
  }

  private slotOf(version: ModelVersion) {
    const { feature_names, classes } = version;
    // A run's version that names features but no task was always served as a regression; an import says its own.
    const task = version.task ?? (version.source === undefined && feature_names ? "regression" : undefined);
    return this.options.pool.acquire(version.model, version.version, version.path, { feature_names, classes, task });
  }

  /**
   * The active version's session. Its file was verified when it was activated, so one that no longer loads
   * (changed by hand, a failing disk) is this machine's problem, not the request's: 503, logged once.
   */
  private async servingSlot(version: ModelVersion) {
    try {
      return await this.slotOf(version);
    } catch (error) {
      if (!(error instanceof EdgetrainError) || (error.code !== "model_not_loadable" && error.code !== "data_invalid" && error.code !== "not_found")) throw error;
      const { model, version: number, path } = version;
      const id = `${model}@${number}`;
      if (!this.reportedUnloadable.has(id)) {
        this.reportedUnloadable.add(id);
        this.options.logger.error("the active model version does not load; its predictions fail until another version is activated", { model, version: number, error: error.message });
      }
      // The message already names the model, the version and the file.
      throw new EdgetrainError("model_unavailable", error.message, {
        details: { model, version: number, file: path },
        hint: `edgetrain rollback ${model} goes back to an intact earlier version; a new run of its job trains one that replaces it; a restart serves the newest intact version kept`,
      });
    }
  }

  private async compute(version: ModelVersion, key: string, x: Float32Array, rows: number): Promise<PredictionOutput[]> {
    const slot = await this.servingSlot(version);
    const outputs = await this.options.pool.run(slot, x, rows);
    // Kept twice as long as it may be served fresh, so that a busy model can still answer stale-while-revalidate.
    this.options.cache.set(key, { outputs, at: this.options.clock.now() } satisfies CachedAnswer, 2 * Math.max(this.options.ttlMs, this.options.ttlDuringTrainingMs));
    return outputs;
  }

  private revalidate(version: ModelVersion, key: string, x: Float32Array, rows: number): void {
    if (this.revalidating.has(key)) return;
    this.revalidating.add(key);
    void this.compute(version, key, x, rows)
      .catch((error) => this.options.logger.warn("could not refresh a stale prediction", { model: version.model, error: messageOf(error) }))
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

  /** A cache hit means the input was asked before (or pregenerated): only those are counted. */
  private remember(model: string, hash: string, askedBefore: boolean, request: TableRequest, names: string[]): void {
    if (this.options.pregenerateTop <= 0) return;
    let popular = this.popular.get(model);
    if (!popular) this.popular.set(model, (popular = new PopularInputs(POPULAR_PER_MODEL)));
    popular.note(hash, askedBefore, () => request.inputs ?? request.rows!.map((row) => names.map((name) => row[name]!)));
  }

  private topInputs(model: string): number[][][] {
    if (this.options.pregenerateTop <= 0) return [];
    return this.popular.get(model)?.top(this.options.pregenerateTop) ?? [];
  }
}

/** model/version/hash: the version in the key is what makes an activation invalidate by construction. */
function cacheKey(model: string, version: number, hash: string): string {
  return `${model}/${version}/${hash}`;
}

/**
 * Hash of the checked float32 inputs, the last part of a cache key: equal inputs give equal keys whatever
 * their JSON spelling. The typed array is hashed as it is: asking it for its `buffer`
 * would make JavaScriptCore allocate one.
 */
function inputHash(x: Float32Array): string {
  return Bun.SHA1.hash(x, "hex");
}

interface TensorAnswer {
  version: number;
  rows: number;
  outputs: OutputTensor[];
}

function byName(tensors: OutputTensor[]): Record<string, OutputTensor> {
  return Object.fromEntries(tensors.map((tensor) => [tensor.name, tensor]));
}
