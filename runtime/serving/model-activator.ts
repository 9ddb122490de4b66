import { EdgetrainError, messageOf } from "../errors.ts";
import type { Events } from "../events/bus.ts";
import type { PredictionOutput } from "../inference/session-outputs.ts";
import type { SessionPool } from "../inference/session-pool.ts";
import { KeyedQueue } from "../locks/keyed-queue.ts";
import type { Logger } from "../plugin-api.ts";
import type { ModelStore, ModelVersion } from "../store/model-store.ts";
import type { PredictionService } from "./prediction-service.ts";

/**
 * Activations and rollbacks as serving sees them: the new session is loaded before the pointer switches
 * (no request waits for a load or fails during the swap), then a health check predicts the version's
 * held-out rows, and an error there rolls back at once. One change per model at a time.
 */
export class ModelActivator {
  private readonly queue = new KeyedQueue();

  constructor(
    private readonly store: ModelStore,
    private readonly pool: SessionPool,
    private readonly service: PredictionService,
    private readonly logger: Logger,
    private readonly events: Events,
  ) {}

  activate(model: string, version: number, reason: string): Promise<ModelVersion> {
    return this.queue.run(model, async () => {
      const target = this.store.requireVersion(model, version);
      if (this.store.activeVersion(model) === version) return target;
      // Load and try it before anyone is sent to it.
      await this.check(target);
      const active = await this.store.activate(model, version);
      this.pool.unload(model, version);
      try {
        await this.check(active);
      } catch (error) {
        await this.undoNow(model, `health check after activation failed: ${messageOf(error)}`);
        throw error;
      }
      this.logger.info("model activated", { model, version, reason });
      void this.service.pregenerate(model).catch(() => {});
      return active;
    });
  }

  rollback(model: string, reason: string): Promise<ModelVersion> {
    return this.queue.run(model, () => this.rollbackNow(model, reason));
  }

  /** For a deploy that failed after activating: back to the previous version, or out of service if there was none. */
  undo(model: string, reason: string): Promise<ModelVersion | undefined> {
    return this.queue.run(model, () => this.undoNow(model, reason));
  }

  private async undoNow(model: string, reason: string): Promise<ModelVersion | undefined> {
    if ((await this.store.rollbackTarget(model)) !== undefined) return this.rollbackNow(model, reason);
    await this.store.withdraw(model, reason);
    this.pool.unload(model);
    this.logger.warn("model withdrawn: its first version failed and there is none to return to", { model, reason });
    return undefined;
  }

  private async rollbackNow(model: string, reason: string): Promise<ModelVersion> {
    const target = await this.store.rollbackTarget(model);
    // Loaded (and its health rows answered) before the pointer goes back, so requests do not wait for it.
    const previous = target !== undefined ? this.store.requireVersion(model, target) : undefined;
    if (previous) await this.service.predictDirect(previous, this.healthInputs(previous)).catch(() => undefined);
    const restored = await this.store.rollback(model, reason);
    this.pool.unload(model, restored.version);
    this.logger.warn("model rolled back", { model, to: restored.version, reason });
    this.events.emit("model.rollback_done", { model, version: restored.version, reason });
    return restored;
  }

  /** Predicts the version's health rows straight through its session; a wrong answer is an error. */
  private async check(version: ModelVersion): Promise<void> {
    const inputs = this.healthInputs(version);
    const outputs = await this.service.predictDirect(version, inputs);
    const bad = outputs.findIndex((output) => !validOutput(output));
    if (outputs.length !== inputs.length || bad >= 0) {
      throw new EdgetrainError(
        "model_not_loadable",
        `model ${version.model} version ${version.version} answered its health check wrongly (row ` +
          `${bad >= 0 ? bad : outputs.length})`,
        { details: { model: version.model, version: version.version } },
      );
    }
  }

  private healthInputs(version: ModelVersion): number[][] {
    const kept = this.store.healthInputs(version.model, version.version);
    if (kept?.length) return kept;
    // Without held-out rows, a row of zeros at least proves the model loads and answers.
    return [new Array<number>(version.feature_names?.length ?? 0).fill(0)];
  }
}

function validOutput(output: PredictionOutput): boolean {
  if (typeof output === "number") return Number.isFinite(output);
  if (Array.isArray(output)) return output.every(Number.isFinite);
  if ("probabilities" in output && typeof output.label === "string") {
    return Object.values(output.probabilities as Record<string, number>).every(Number.isFinite);
  }
  // A model of no known task: each named output's values are finite numbers, or text and booleans.
  return Object.values(output)
    .flat(Infinity)
    .every((value) => typeof value !== "number" || Number.isFinite(value));
}
