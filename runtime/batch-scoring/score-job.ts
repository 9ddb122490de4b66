import type { Job, Profile } from "../config/schema.ts";
import { dataFiles, fileFingerprint, waitUntilStable } from "../data/changes.ts";
import { EdgetrainError } from "../errors.ts";
import { trainingPriority } from "../os/thread-priority.ts";
import type { ResolvedPaths } from "../plugin-api.ts";
import type { RegisteredPlugin } from "../plugins/registry.ts";
import type { StateDatabase } from "../state/database.ts";
import { checkModelName } from "../store/model-name.ts";
import type { ModelStore, ModelVersion } from "../store/model-store.ts";
import { runScoreInThread, type ThreadBridge } from "../training/strategy-thread.ts";
import { type ScoreSummary, ScoreTally } from "./score-summary.ts";

export interface ScoreJobParts {
  profile: Profile;
  paths: ResolvedPaths;
  state: StateDatabase;
  store: ModelStore;
}

export interface ScoreKeyRequest {
  job: string;
  spec: Job;
  key?: string;
  runDir: string;
  plugin: RegisteredPlugin<"score">;
}

/** Rows read and predicted at a time: ONNX Runtime's call cost is spread thin, and the batch stays small. */
const BATCH_ROWS = 8192;

/**
 * One score run of a job and key: the model's active version over the key's data files that the job has
 * not scored yet, in the training thread. The files scored are remembered with their size and mtime, so
 * the next run takes only new or changed ones.
 */
export async function scoreKey(
  request: ScoreKeyRequest,
  parts: ScoreJobParts,
  bridge: ThreadBridge,
): Promise<ScoreSummary> {
  const { profile, paths, state } = parts;
  const version = activeVersionOf(request, parts.store);
  const data = request.spec.data!;
  const scored = state.pluginStore(`score/${request.job}`);
  const recordKey = `scored/${request.key ?? ""}`;
  const done = scored.get<Record<string, string>>(recordKey) ?? {};
  const source = dataFiles(paths.data, data);
  const files = (source.filesByKey()[request.key ?? ""] ?? []).filter((file) => done[file] !== fileFingerprint(file));
  const model = { name: version.model, version: version.version };
  if (files.length === 0) return new ScoreTally().summary(model, [], 0);
  await waitUntilStable(files, source.debounceMs);
  const fingerprints = new Map(files.map((file) => [file, fileFingerprint(file)]));
  const { summary } = await runScoreInThread(
    {
      plugin: { name: request.plugin.module.name, source: request.plugin.source },
      options: request.spec.options,
      paths,
      stateFile: state.file,
      storeName: `score/${request.plugin.module.name}`,
      job: request.job,
      key: request.key,
      runDir: request.runDir,
      model: {
        ...model,
        path: version.path,
        task: version.task,
        featureNames: version.feature_names,
        classes: version.classes,
      },
      files,
      onBadCell: data.on_bad_cell,
      batchRows: BATCH_ROWS,
      runtime: {
        preference: profile.inference.backend,
        cacheDir: paths.cache,
        threads: profile.governor.workers ?? 1,
        priority: trainingPriority(profile.governor),
      },
      memoryLimitMb: profile.governor.memory_limit_mb,
    },
    bridge,
  );
  const next = { ...(scored.get<Record<string, string>>(recordKey) ?? {}) };
  for (const { input } of summary.files) if (fingerprints.has(input)) next[input] = fingerprints.get(input)!;
  scored.set(recordKey, next);
  return summary;
}

/** The version that scores: the model's active one. */
function activeVersionOf(request: ScoreKeyRequest, store: ModelStore): ModelVersion {
  const name = checkModelName(
    request.spec.model!.replaceAll("{job}", request.job).replaceAll("{key}", request.key ?? ""),
  );
  const version = store.active(name);
  if (!version) {
    const message = `job ${request.job}: model ${name} has no active version to score with`;
    throw new EdgetrainError("model_unavailable", message, {
      details: { model: name },
      hint: "train it, or import one: edgetrain models add NAME FILE --activate",
    });
  }
  return version;
}
