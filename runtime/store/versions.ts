/** What the store keeps about each version: its status, metadata and the files in its folder. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { EdgetrainError, messageOf } from "../errors.ts";

export type VersionStatus = "candidate" | "active" | "retired" | "rejected" | "rolled_back";

/** What is kept with every version, besides the ONNX file (immutable once written). */
export interface VersionMetadata {
  /**
   * Where the version came from: a run on this device (absent in older versions), a fleet update, or an
   * import (`edgetrain models add`).
   */
  source?: "run" | "fleet" | "import";
  /** A fleet update's rollout and announcement: what the hub knows the version by. */
  fleet?: { rollout: string; version: number; issued_at: string };
  job?: string;
  key?: string;
  run?: string;
  strategy?: string;
  options?: Record<string, unknown>;
  /** The data window in words, files and row counts. */
  data?: Record<string, unknown>;
  task?: "classification" | "regression";
  feature_names?: string[];
  classes?: string[];
  metrics: Record<string, number>;
  /** The version that served when the run started (its warm start's, for a strategy that continues one). */
  parent?: number;
  /** Whether the strategy continued from the parent's weights (incremental-nn's warm_start). */
  warm_started?: boolean;
  created_at: string;
  sha256: string;
  /**
   * Of an imported version: the file as given, its sha256 (before any change) and what was changed in it;
   * for a file of another framework, the converter that made it ONNX and what it converted.
   */
  imported?: { file: string; sha256: string; changes: string[]; converter?: string; conversion?: string };
}

/** Shared between callers (the store hands out one record per version and status): never changed in place. */
export interface ModelVersion extends Readonly<VersionMetadata> {
  readonly model: string;
  readonly version: number;
  readonly status: VersionStatus;
  readonly path: string;
  /** Why a version was rejected or rolled back, and the scores behind it. */
  readonly note?: string;
  readonly gate?: Record<string, unknown>;
}

export interface ModelSummary {
  model: string;
  active?: number;
  versions: number;
  latest: number;
  job?: string;
  key?: string;
  metrics?: Record<string, number>;
  activated_at?: string;
}

export const MODEL_FILE = "model.onnx";
export const METADATA_FILE = "version.json";
/** A few held-out rows kept with the version: every activation predicts them as a health check. */
export const HEALTH_FILE = "health.json";

/** The numbered version folders of a model, whatever the index says. */
export function versionDirs(root: string, model: string): number[] {
  try {
    return readdirSync(join(root, model))
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return [];
  }
}

/** The held-out rows kept with a version for the health check; undefined when it has none. */
export function readHealthInputs(root: string, model: string, version: number): number[][] | undefined {
  try {
    return JSON.parse(readFileSync(join(root, model, String(version), HEALTH_FILE), "utf8")) as number[][];
  } catch {
    return undefined;
  }
}

/** What is wrong with a version's file (gone, or not matching its sha256), or undefined when it is whole. */
export async function damageOf(version: ModelVersion): Promise<string | undefined> {
  let actual: string;
  try {
    actual = await sha256OfFile(version.path);
  } catch (error) {
    return `${version.path} cannot be read (${messageOf(error)})`;
  }
  return actual === version.sha256
    ? undefined
    : `${version.path} does not match its sha256 (damaged or changed by hand)`;
}

/** Throws model_not_loadable when the version's file is gone or damaged: such a version is never made active. */
export async function requireIntact(version: ModelVersion): Promise<void> {
  const damage = await damageOf(version);
  if (damage)
    throw new EdgetrainError(
      "model_not_loadable",
      `model ${version.model} version ${version.version}: ${damage}; not activated`,
      { details: { model: version.model, version: version.version } },
    );
}

/** Hashed as it is read, in chunks: a large model is never held whole, nor hashed in one long block of the thread. */
export async function sha256OfFile(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) hasher.update(chunk);
  return hasher.digest("hex");
}
