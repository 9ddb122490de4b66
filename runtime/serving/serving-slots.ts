import { EdgetrainError } from "../errors.ts";
import { tableWidth } from "../inference/model-signature.ts";
import { toFeatureBatch } from "../inference/prediction-input.ts";
import { formatOutputs, type PredictionOutput } from "../inference/session-outputs.ts";
import type { SessionPool } from "../inference/session-pool.ts";
import { toFeeds, zeroTensors } from "../inference/tensor-input.ts";
import type { Logger } from "../plugin-api.ts";
import type { ModelVersion } from "../store/model-store.ts";
import { byName } from "./tensor-request.ts";

/** The sessions of the versions the prediction service answers with, from the session pool. */
export class ServingSlots {
  /** `model@version` whose file failed to load while serving: logged once, not per request. */
  private readonly reportedUnloadable = new Set<string>();

  constructor(
    private readonly pool: SessionPool,
    private readonly logger: Logger,
  ) {}

  /** From the store's record; a model trained elsewhere names them only in its file, so its session is loaded. */
  async featureNamesOf(version: ModelVersion): Promise<string[]> {
    return version.feature_names ?? (await this.serving(version)).description.feature_names;
  }

  acquire(version: ModelVersion) {
    const { feature_names, classes } = version;
    // A run's version that names features but no task was always served as a regression; an import says its own.
    const task = version.task ?? (version.source === undefined && feature_names ? "regression" : undefined);
    return this.pool.acquire(version.model, version.version, version.path, { feature_names, classes, task });
  }

  /**
   * The active version's session. Its file was verified when it was activated, so one that no longer loads
   * (changed by hand, a failing disk) is this machine's problem, not the request's: 503, logged once.
   */
  async serving(version: ModelVersion) {
    try {
      return await this.acquire(version);
    } catch (error) {
      if (
        !(error instanceof EdgetrainError) ||
        (error.code !== "model_not_loadable" && error.code !== "data_invalid" && error.code !== "not_found")
      )
        throw error;
      const { model, version: number, path } = version;
      const id = `${model}@${number}`;
      if (!this.reportedUnloadable.has(id)) {
        this.reportedUnloadable.add(id);
        this.logger.error(
          "the active model version does not load; its predictions fail until another version is activated",
          { model, version: number, error: error.message },
        );
      }
      // The message already names the model, the version and the file.
      throw new EdgetrainError("model_unavailable", error.message, {
        details: { model, version: number, file: path },
        hint:
          `edgetrain rollback ${model} goes back to an intact earlier version; a new run of its job trains one ` +
          `that replaces it; a restart serves the newest intact version kept`,
      });
    }
  }

  /** The version's outputs for `inputs`, past the cache: what PredictionService.predictDirect answers. */
  async predictDirect(version: ModelVersion, inputs: number[][]): Promise<PredictionOutput[]> {
    const slot = await this.acquire(version);
    const { signature, description } = slot;
    if (tableWidth(signature) === undefined && signature.inputs.length && !description.feature_names.length) {
      const { feeds, rows } = toFeeds(
        zeroTensors(signature),
        signature,
        version.model,
        "health",
        Number.MAX_SAFE_INTEGER,
      );
      return formatOutputs(byName(await this.pool.runFeeds(slot, feeds, rows)), description, rows);
    }
    const width = description.feature_names.length;
    // The store knew no features (an imported model): the row of zeros is as wide as the model's table.
    const rowsIn = inputs.map((row) => (row.length ? row : new Array<number>(width).fill(0)));
    const { x, rows } = toFeatureBatch(
      { inputs: rowsIn },
      description.feature_names,
      version.model,
      Number.MAX_SAFE_INTEGER,
    );
    return this.pool.run(slot, x, rows);
  }
}
