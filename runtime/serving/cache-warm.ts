import { notFound } from "../errors.ts";
import type { ModelStore } from "../store/model-store.ts";
import type { PredictionService } from "./prediction-service.ts";

export interface ModelWarmed {
  model: string;
  /** Pregenerated batches computed and cached (pregenerate file lines and most requested inputs). */
  entries: number;
}

/**
 * `edgetrain cache warm [MODEL]`: pregenerates the predictions of one model, or of every model that serves,
 * by hand, as a scheduled run and an activation do on their own. Throws not_found for an unknown model.
 */
export async function warmCache(
  store: Pick<ModelStore, "list">,
  service: Pick<PredictionService, "pregenerate">,
  model?: string,
): Promise<ModelWarmed[]> {
  const serving = store.list().filter((summary) => summary.active !== undefined && summary.active !== null);
  if (model !== undefined && !serving.some((summary) => summary.model === model)) {
    throw notFound(
      "model",
      model,
      serving.map((summary) => summary.model),
      { message: `no model "${model}" serves`, hint: "edgetrain models lists them" },
    );
  }
  const models = model !== undefined ? [model] : serving.map((summary) => summary.model);
  const warmed: ModelWarmed[] = [];
  for (const name of models) warmed.push({ model: name, entries: await service.pregenerate(name) });
  return warmed;
}
