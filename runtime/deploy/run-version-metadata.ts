import { readFileSync } from "node:fs";
import { readModelDescription } from "../inference/model-metadata.ts";
import type { DataTable } from "../plugin-api.ts";
import type { VersionMetadata } from "../store/model-store.ts";
import type { DeployRequest } from "./deployment.ts";

const HEALTH_ROWS = 5;

/** What a run's model is stored with as a version: the run, the job's strategy and options, and what the model is. */
export function metadataOfRun(request: DeployRequest): Omit<VersionMetadata, "sha256" | "created_at"> {
  const metadata = request.result.metadata ?? {};
  // The strategy's metadata usually says it all; decoding the ONNX file is the fallback (foreign trainers).
  const description = metadata.feature_names
    ? undefined
    : readModelDescription(readFileSync(request.result.artifact), request.result.artifact);
  return {
    source: "run",
    job: request.job,
    key: request.key,
    run: request.run,
    strategy: request.spec.strategy,
    options: request.spec.options,
    data: (metadata.data as Record<string, unknown> | undefined) ?? undefined,
    task: (metadata.task as "classification" | "regression" | undefined) ?? description?.task,
    feature_names: (metadata.feature_names as string[] | undefined) ?? description?.feature_names,
    classes: (metadata.classes as string[] | undefined) ?? description?.classes,
    metrics: request.result.metrics,
    ...lineageOf(metadata),
  };
}

/**
 * The version the run started from (the job runner puts it in the result, null for none) and whether the
 * strategy continued from it. A run recorded before runs kept it gets the store's default: the active version.
 */
function lineageOf(metadata: Record<string, unknown>): { parent?: number; warm_started?: boolean } {
  return {
    ...("parent" in metadata ? { parent: typeof metadata.parent === "number" ? metadata.parent : undefined } : {}),
    ...(typeof metadata.warm_started === "boolean" ? { warm_started: metadata.warm_started } : {}),
  };
}

/** The held-out rows kept with a version for its health check. */
export function healthRows(table: DataTable): number[][] {
  const width = table.featureNames.length;
  return Array.from({ length: Math.min(HEALTH_ROWS, table.rows) }, (_, row) =>
    Array.from(table.x.subarray(row * width, (row + 1) * width)),
  );
}
