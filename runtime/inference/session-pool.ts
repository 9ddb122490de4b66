import { existsSync, readFileSync } from "node:fs";
import type * as Ort from "onnxruntime-common";
import { EdgetrainError, messageOf } from "../errors.ts";
import type { EventSink, Logger } from "../plugin-api.ts";
import { MicroBatcher } from "./micro-batch.ts";
import { readModelDescription, type ModelDescription } from "./model-metadata.ts";
import type { OnnxRuntime } from "./onnx-runtime.ts";
import { sessionThreads } from "./session-threads.ts";

/** One row's answer: a class with its probabilities, a value, or the raw output of a foreign model. */
export type PredictionOutput = { label: string; probabilities: Record<string, number> } | number | number[];

export interface LoadedModel {
  model: string;
  version: number;
  description: ModelDescription;
  provider: string;
  /** Estimated memory of the session, for the budget: ONNX Runtime keeps about two copies of the graph. */
  bytes: number;
  lastUsed: number;
}

interface Slot extends LoadedModel {
  session: Ort.InferenceSession;
  /** Runs the session, batching requests; holds the runtime whose Tensor type builds the inputs. */
  batcher: MicroBatcher<PredictionOutput>;
  /** Requests queued or running: the session is released only once none is. */
  inFlight: number;
  /** Unloaded while requests were still running: released when the last one ends. */
  retired: boolean;
}

export interface SessionPoolOptions {
  runtime: () => Promise<OnnxRuntime>;
  maxLoaded: number;
  memoryBudgetMb: number;
  accelerator: "auto" | "cpu" | "cuda";
  /** `inference.threads`: intra-op threads per session (1 when left out). */
  threads?: number;
  /** `inference.max_batch_rows`: requests to one model in the same turn of the event loop run together up to this many rows. */
  maxBatchRows: number;
  logger: Logger;
  events?: EventSink;
  /** Where CUDA would come from; `/dev/nvidia0` on a GPU server. */
  cudaDevice?: string;
}

/**
 * ONNX Runtime sessions of model versions, loaded on first use and unloaded least recently used beyond
 * `inference.max_loaded` or the memory budget. A session in use is never released under a request.
 */
export class SessionPool {
  private readonly slots = new Map<string, Slot>();
  private readonly loading = new Map<string, Promise<Slot>>();
  private cudaFailed = false;
  /** ONNX Runtime calls made and the rows they ran, since the start. */
  private readonly calls = { calls: 0, rows: 0 };

  constructor(private readonly options: SessionPoolOptions) {}

  /** Loads (or finds) the session of model@version; concurrent callers share one load. */
  async acquire(model: string, version: number, path: string, known?: Partial<ModelDescription>): Promise<Slot> {
    const id = `${model}@${version}`;
    const slot = this.slots.get(id);
    if (slot && !slot.retired) {
      // Re-inserting keeps the Map in least-recently-used order.
      this.slots.delete(id);
      this.slots.set(id, slot);
      slot.lastUsed = Date.now();
      return slot;
    }
    let pending = this.loading.get(id);
    if (!pending) {
      pending = this.load(model, version, path, known).finally(() => this.loading.delete(id));
      this.loading.set(id, pending);
    }
    return pending;
  }

  /** Runs rows, batched with other requests to the same session; outputs are one per row. */
  async run(slot: Slot, x: Float32Array, rows: number): Promise<PredictionOutput[]> {
    slot.inFlight++;
    try {
      return await slot.batcher.run(x, rows);
    } catch (error) {
      throw new EdgetrainError("run_failed", `model ${slot.model} version ${slot.version} could not predict: ${messageOf(error)}`, { details: { model: slot.model, version: slot.version } });
    } finally {
      slot.inFlight--;
      if (slot.retired && slot.inFlight === 0) void slot.session.release().catch(() => {});
    }
  }

  /** Unloads every version of a model but `keep` (after an activation, the old one is no longer needed). */
  unload(model: string, keep?: number): void {
    for (const [id, slot] of this.slots) if (slot.model === model && slot.version !== keep) this.retire(id, slot, "replaced");
  }

  /** ONNX Runtime calls made and the rows they ran, over all sessions since the start. */
  runs(): { calls: number; rows: number } {
    return { ...this.calls };
  }

  loaded(): LoadedModel[] {
    return [...this.slots.values()].map(({ model, version, description, provider, bytes, lastUsed }) => ({ model, version, description, provider, bytes, lastUsed }));
  }

  async close(): Promise<void> {
    for (const [id, slot] of this.slots) this.retire(id, slot, "closing");
  }

  private async load(model: string, version: number, path: string, known?: Partial<ModelDescription>): Promise<Slot> {
    if (!existsSync(path)) throw new EdgetrainError("not_found", `model ${model} version ${version}: ${path} is missing`, { details: { model, version } });
    const bytes = readFileSync(path);
    const description = describe(bytes, path, known);
    const runtime = await this.options.runtime();
    const { session, provider } = await this.createSession(runtime, bytes, model, version, path);
    const width = description.feature_names.length;
    const inputName = session.inputNames[0] ?? "features";
    const batcher = new MicroBatcher<PredictionOutput>(width, this.options.maxBatchRows, async (x, rows) => {
      this.calls.calls++;
      this.calls.rows += rows;
      return formatOutputs(await session.run({ [inputName]: new runtime.ort.Tensor("float32", x, [rows, width]) }), description, rows);
    });
    const slot: Slot = { model, version, description, provider, bytes: bytes.byteLength * 2 + 1_048_576, lastUsed: Date.now(), session, batcher, inFlight: 0, retired: false };
    this.slots.set(`${model}@${version}`, slot);
    this.options.events?.emit("model.loaded", { model, version, provider });
    this.evict();
    return slot;
  }

  /** CUDA where the profile asks for it; onnxruntime-node throws instead of falling back, so retry on CPU. */
  private async createSession(runtime: OnnxRuntime, bytes: Uint8Array, model: string, version: number, path: string): Promise<{ session: Ort.InferenceSession; provider: string }> {
    const base = sessionThreads(this.options.threads ?? 1);
    if (this.wantsCuda(runtime)) {
      try {
        // Severity 4 (fatal only): the failed attempt is reported once, as a warning, not as ONNX Runtime's error dump.
        return { session: await runtime.ort.InferenceSession.create(bytes, { ...base, executionProviders: ["cuda", "cpu"], logSeverityLevel: 4 }), provider: "cuda" };
      } catch (error) {
        this.cudaFailed = true;
        this.options.logger.warn("CUDA execution provider did not load; serving on CPU", { model, error: messageOf(error).split("\n")[0] });
      }
    }
    const provider = runtime.backend === "wasm" ? "wasm" : "cpu";
    try {
      return { session: await runtime.ort.InferenceSession.create(bytes, { ...base, executionProviders: [provider] }), provider };
    } catch (error) {
      throw new EdgetrainError("data_invalid", `model ${model} version ${version}: ${path} does not load in ONNX Runtime: ${messageOf(error).split("\n")[0]}`, { details: { model, version, file: path } });
    }
  }

  private wantsCuda(runtime: OnnxRuntime): boolean {
    if (runtime.backend !== "native" || this.cudaFailed || this.options.accelerator === "cpu") return false;
    if (this.options.accelerator === "cuda") return true;
    return (runtime.optionalProviders ?? []).includes("cuda") && existsSync(this.options.cudaDevice ?? "/dev/nvidia0");
  }

  private evict(): void {
    const budget = this.options.memoryBudgetMb * 1_048_576;
    const live = () => [...this.slots.entries()].filter(([, slot]) => !slot.retired);
    let entries = live();
    while (entries.length > 1 && (entries.length > this.options.maxLoaded || entries.reduce((sum, [, s]) => sum + s.bytes, 0) > budget)) {
      const [id, slot] = entries[0]!;
      this.retire(id, slot, entries.length > this.options.maxLoaded ? "max_loaded" : "memory_budget");
      entries = live();
    }
  }

  private retire(id: string, slot: Slot, reason: string): void {
    this.slots.delete(id);
    slot.retired = true;
    this.options.events?.emit("model.unloaded", { model: slot.model, version: slot.version, reason });
    if (slot.inFlight === 0) void slot.session.release().catch(() => {});
  }
}

/** Feature names and classes: from the store's record when it has them, else from the model's metadata. */
function describe(bytes: Uint8Array, path: string, known?: Partial<ModelDescription>): ModelDescription {
  // Decoding a forest's protobuf takes milliseconds on the event loop: skip it when the store already knows.
  if (known?.feature_names?.length && known.task) return { task: known.task, feature_names: known.feature_names, classes: known.classes ?? [] };
  const embedded = readModelDescription(bytes, path);
  const featureNames = known?.feature_names ?? embedded?.feature_names;
  if (!featureNames?.length) throw new EdgetrainError("data_invalid", `${path} names no features (no edgetrain metadata): inputs cannot be checked`, { details: { file: path } });
  return { task: known?.task ?? embedded?.task ?? "regression", feature_names: featureNames, classes: known?.classes ?? embedded?.classes ?? [] };
}

function formatOutputs(outputs: Ort.InferenceSession.ReturnType, description: ModelDescription, rows: number): PredictionOutput[] {
  if (outputs.label && outputs.probabilities) {
    const labels = outputs.label.data as ArrayLike<number | bigint>;
    const probabilities = outputs.probabilities.data as Float32Array;
    const classes = description.classes;
    const width = probabilities.length / rows;
    return Array.from({ length: rows }, (_, i) => {
      const index = Number(labels[i]);
      const byClass: Record<string, number> = {};
      for (let k = 0; k < width; k++) byClass[classes[k] ?? String(k)] = Math.round(probabilities[i * width + k]! * 1e6) / 1e6;
      return { label: classes[index] ?? String(index), probabilities: byClass };
    });
  }
  const first = outputs.variable ?? Object.values(outputs)[0]!;
  const data = Array.from(first.data as ArrayLike<number>, Number);
  const width = data.length / rows;
  return Array.from({ length: rows }, (_, i) => (width === 1 ? data[i]! : data.slice(i * width, (i + 1) * width)));
}
