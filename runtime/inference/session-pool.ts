import { existsSync, readFileSync, statSync } from "node:fs";
import { EdgetrainError, messageOf } from "../errors.ts";
import type { Events } from "../events/bus.ts";
import type { Clock, Logger } from "../plugin-api.ts";
import type { ModelDescription } from "./model-metadata.ts";
import { signatureOf } from "./model-signature.ts";
import type { OnnxRuntime } from "./onnx-runtime.ts";
import { type AdmissionLimits, RequestFrequency, victimsFor } from "./session-admission.ts";
import type { SessionCounts } from "./session-counts.ts";
import { SessionFactory } from "./session-factory.ts";
import type { PredictionOutput } from "./session-outputs.ts";
import { describe, type OutputTensor } from "./session-outputs.ts";
import { type LoadedModel, runFeedsOn, type Slot, sessionBatcher } from "./session-slot.ts";
import type { Feeds } from "./tensor-input.ts";

export type { SessionCounts };

export interface SessionPoolOptions {
  runtime: () => Promise<OnnxRuntime>;
  /** `inference.memory_budget_mb`: the estimated memory of the sessions kept loaded. */
  memoryBudgetMb: number;
  /** `inference.max_loaded`: a cap on the sessions kept, besides the budget; none when left out. */
  maxLoaded?: number;
  /**
   * `inference.min_residence`: a session kept is not evicted for this long after it was loaded (10 s when left out).
   */
  minResidenceMs?: number;
  accelerator: "auto" | "cpu" | "cuda";
  /** `inference.threads`: intra-op threads per session (1 when left out). */
  threads?: number;
  /** `inference.tree_ensembles`: who runs a model that is only a tree ensemble (builtin when left out). */
  treeEnsembles?: "builtin" | "onnxruntime";
  /**
   * `inference.max_batch_rows`: requests to one model in the same turn of the event loop run together up to this many
   * rows.
   */
  maxBatchRows: number;
  logger: Logger;
  events?: Events;
  /** For the minimum residence time; the system clock when left out. */
  clock?: Pick<Clock, "now">;
  /** Where CUDA would come from; `/dev/nvidia0` on a GPU server. */
  cudaDevice?: string;
}

const DEFAULT_MIN_RESIDENCE_MS = 10_000;

/** A load that failed, and the mtime of the file it read: a file changed since may load. */
export interface LoadFailure {
  failed: string;
  mtimeMs?: number;
}

/**
 * Sessions of model versions (ONNX Runtime's, or built-in tree ensembles), loaded on first use and kept within
 * the memory budget.
 * Once it is full, a newly loaded session is kept only in place of sessions asked for less often, and
 * kept for at least `inference.min_residence` (session-admission.ts): otherwise it answers the requests
 * that arrive while it is loaded and goes, so that traffic spread over more models than fit does not
 * unload and reload the others at every request. A session in use is never released under a request.
 */
export class SessionPool {
  /** Sessions kept, least recently used first. */
  private readonly slots = new Map<string, Slot>();
  /** Sessions loaded but not kept, shared by the requests that arrive while they are in use. */
  private readonly passing = new Map<string, Slot>();
  private readonly loading = new Map<string, Promise<Slot>>();
  private readonly frequency = new RequestFrequency();
  private readonly limits: AdmissionLimits;
  private readonly clock: Pick<Clock, "now">;
  private readonly factory: SessionFactory;
  /** Models told about once in the log: their sessions are not kept. */
  private readonly reportedNotKept = new Set<string>();
  /** ONNX Runtime calls made and the rows they ran, since the start. */
  private readonly calls = { calls: 0, rows: 0 };
  private readonly counts = { loads: 0, not_kept: 0, evictions: 0 };
  /** Why model@version last failed to load, with its file's mtime then; forgotten once it loads. */
  private readonly failures = new Map<string, LoadFailure>();

  constructor(private readonly options: SessionPoolOptions) {
    this.limits = {
      budgetBytes: options.memoryBudgetMb * 1_048_576,
      maxLoaded: options.maxLoaded,
      minResidenceMs: options.minResidenceMs ?? DEFAULT_MIN_RESIDENCE_MS,
    };
    this.clock = options.clock ?? { now: () => Date.now() };
    this.factory = new SessionFactory(options);
  }

  /** Loads (or finds) the session of model@version; concurrent callers share one load. */
  acquire(model: string, version: number, path: string, known?: Partial<ModelDescription>): Promise<Slot> {
    this.frequency.record(model);
    return this.slotOf(model, version, path, known);
  }

  /** Runs rows, batched with other requests to the same session; outputs are one per row. */
  async run(slot: Slot, x: Float32Array, rows: number): Promise<PredictionOutput[]> {
    // Released between acquire and run (evicted, or not kept and its other requests done): load it again.
    if (slot.released) slot = await this.slotOf(slot.model, slot.version, slot.path, slot.known);
    slot.inFlight++;
    try {
      return await slot.batcher.run(x, rows);
    } catch (error) {
      throw new EdgetrainError(
        "run_failed",
        `model ${slot.model} version ${slot.version} could not predict: ${messageOf(error)}`,
        { details: { model: slot.model, version: slot.version } },
      );
    } finally {
      slot.inFlight--;
      if (slot.leaving && slot.inFlight === 0) this.releaseWhenIdle(slot);
    }
  }

  /** Runs checked tensors by input name as one call, unbatched: the path of models that take no single table. */
  async runFeeds(slot: Slot, feeds: Feeds, rows: number): Promise<OutputTensor[]> {
    if (slot.released) slot = await this.slotOf(slot.model, slot.version, slot.path, slot.known);
    slot.inFlight++;
    try {
      return await runFeedsOn(slot, feeds, rows, this.calls);
    } catch (error) {
      const message = `model ${slot.model} version ${slot.version} could not predict: ${messageOf(error)}`;
      throw new EdgetrainError("run_failed", message, { details: { model: slot.model, version: slot.version } });
    } finally {
      slot.inFlight--;
      if (slot.leaving && slot.inFlight === 0) this.releaseWhenIdle(slot);
    }
  }

  /** Unloads every version of a model but `keep` (after an activation, the old one is no longer needed). */
  unload(model: string, keep?: number): void {
    for (const slot of [...this.slots.values()])
      if (slot.model === model && slot.version !== keep) this.retire(slot, "replaced");
    for (const [id, slot] of [...this.passing])
      if (slot.model === model && slot.version !== keep) this.passing.delete(id);
  }

  /** What is known of model@version without loading it: kept loaded, or why its last load failed. */
  known(model: string, version: number): { loaded: true } | LoadFailure | undefined {
    const id = `${model}@${version}`;
    return this.slots.has(id) ? { loaded: true } : this.failures.get(id);
  }

  /** ONNX Runtime calls made and the rows they ran, over all sessions since the start. */
  runs(): { calls: number; rows: number } {
    return { ...this.calls };
  }

  sessions(): SessionCounts {
    const kept = [...this.slots.values()];
    return {
      loaded: kept.length,
      bytes: kept.reduce((sum, slot) => sum + slot.bytes, 0),
      budget_bytes: this.limits.budgetBytes,
      ...this.counts,
    };
  }

  loaded(): LoadedModel[] {
    return [...this.slots.values()].map(({ model, version, description, signature, provider, bytes, lastUsed }) => ({
      model,
      version,
      description,
      signature,
      provider,
      bytes,
      lastUsed,
    }));
  }

  async close(): Promise<void> {
    for (const slot of [...this.slots.values()]) this.retire(slot, "closing");
    this.passing.clear();
  }

  private slotOf(model: string, version: number, path: string, known?: Partial<ModelDescription>): Promise<Slot> {
    const id = `${model}@${version}`;
    const slot = this.slots.get(id);
    if (slot) {
      // Re-inserting keeps the Map in least-recently-used order.
      this.slots.delete(id);
      this.slots.set(id, slot);
      slot.lastUsed = this.clock.now();
      return Promise.resolve(slot);
    }
    const passing = this.passing.get(id);
    if (passing && !passing.released) {
      // Asked for again while in use: kept now if it has come to be asked for more often.
      this.admit(id, passing);
      return Promise.resolve(passing);
    }
    let pending = this.loading.get(id);
    if (!pending) {
      pending = this.load(model, version, path, known)
        .then(
          (slot) => (this.failures.delete(id), slot),
          (error: unknown) => {
            const mtimeMs = statSync(path, { throwIfNoEntry: false })?.mtimeMs;
            this.failures.set(id, { failed: messageOf(error), mtimeMs });
            throw error;
          },
        )
        .finally(() => this.loading.delete(id));
      this.loading.set(id, pending);
    }
    return pending;
  }

  private async load(model: string, version: number, path: string, known?: Partial<ModelDescription>): Promise<Slot> {
    if (!existsSync(path))
      throw new EdgetrainError("not_found", `model ${model} version ${version}: ${path} is missing`, {
        details: { model, version },
      });
    const bytes = readFileSync(path);
    const created = await this.factory.create(this.options.runtime, bytes, model, version, path);
    const { session, provider, tensor } = created;
    const signature = signatureOf(session);
    const description = describe(bytes, path, known, signature);
    this.counts.loads++;
    const now = this.clock.now();
    const batcher = sessionBatcher(tensor, session, description, signature, this.options.maxBatchRows, this.calls);
    const slot: Slot = {
      model,
      version,
      description,
      signature,
      provider,
      bytes: created.bytes,
      lastUsed: now,
      keptSince: now,
      session,
      batcher,
      tensor,
      path,
      known,
      inFlight: 0,
      leaving: false,
      released: false,
    };
    this.admit(`${model}@${version}`, slot);
    return slot;
  }

  /** Keeps a session if it fits, or is asked for more often than the sessions that would make room. */
  private admit(id: string, slot: Slot): void {
    const residents = [...this.slots.values()];
    const now = this.clock.now();
    const victims = victimsFor(slot, residents, this.limits, this.frequency, now);
    if (!victims) {
      if (slot.leaving) return;
      this.counts.not_kept++;
      slot.leaving = true;
      this.passing.set(id, slot);
      this.releaseWhenIdle(slot);
      if (!this.reportedNotKept.has(slot.model)) {
        this.reportedNotKept.add(slot.model);
        this.options.logger.info(
          "model session not kept loaded: the memory budget is full of sessions asked for more often (or loaded only " +
            "just); its requests load it until it is asked for more",
          { model: slot.model, version: slot.version },
        );
      }
      return;
    }
    const overCount = this.limits.maxLoaded !== undefined && residents.length + 1 > this.limits.maxLoaded;
    for (const victim of victims) {
      this.counts.evictions++;
      this.retire(victim, overCount ? "max_loaded" : "memory_budget");
    }
    this.passing.delete(id);
    slot.leaving = false;
    slot.keptSince = now;
    this.slots.set(id, slot);
    this.options.events?.emit("model.loaded", { model: slot.model, version: slot.version, provider: slot.provider });
  }

  private retire(slot: Slot, reason: string): void {
    this.slots.delete(`${slot.model}@${slot.version}`);
    slot.leaving = true;
    this.options.events?.emit("model.unloaded", { model: slot.model, version: slot.version, reason });
    this.releaseWhenIdle(slot);
  }

  /**
   * Releases a session leaving the pool once no request is in flight, a turn of the event loop later: a
   * caller that has just acquired it runs it in the microtasks that follow its acquire.
   */
  private releaseWhenIdle(slot: Slot): void {
    setImmediate(() => {
      if (!slot.leaving || slot.inFlight > 0 || slot.released) return;
      slot.released = true;
      const id = `${slot.model}@${slot.version}`;
      if (this.passing.get(id) === slot) this.passing.delete(id);
      void slot.session.release().catch(() => {});
    });
  }
}
