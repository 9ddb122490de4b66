import { readFileSync, statSync } from "node:fs";
import { relative } from "node:path";
import { readCsvBatches } from "../data/csv-batches.ts";
import { EdgetrainError } from "../errors.ts";
import { readModelDescription } from "../inference/model-metadata.ts";
import { loadOnnxRuntime } from "../inference/onnx-runtime.ts";
import { sessionOptions } from "../inference/session-options.ts";
import type { ProgressReporter, ScoreBatch, ScoreInput, ScoringModel } from "../plugin-api.ts";
import type { PluginScope } from "../plugins/instantiate.ts";
import { instantiate } from "../plugins/instantiate.ts";
import { makeCheckpoint } from "../training/checkpoint.ts";
import type { PauseSwitch } from "../training/pause-switch.ts";
import type { ThreadAllowance } from "../training/thread-allowance.ts";
import { batchPredictions } from "./batch-predictions.ts";
import { ScoreProgress } from "./score-progress.ts";
import type { ScoreOutcome, ScoreRunSpec } from "./score-run-spec.ts";
import { ScoreTally } from "./score-summary.ts";

/**
 * What scoring CSV rows needs of the model: its task, to read the answers, and its feature names, to read the
 * columns. The store's record says them; else edgetrain's metadata in the file (an edgetrain model imported
 * with `models add`).
 */
function describedModel(model: ScoreRunSpec["model"], bytes: Uint8Array) {
  const embedded = model.task && model.featureNames?.length ? undefined : readModelDescription(bytes, model.path);
  const task = model.task ?? embedded?.task;
  const featureNames = model.featureNames?.length ? model.featureNames : embedded?.feature_names;
  if (!task || !featureNames?.length) {
    const what = `model ${model.name} version ${model.version}`;
    throw new EdgetrainError(
      "model_not_loadable",
      `${what} does not say its task and feature names, which scoring CSV rows needs`,
      {
        details: { model: model.name, version: model.version },
        hint: "import it again with --task and --features (or --features-from data.csv)",
      },
    );
  }
  return {
    name: model.name,
    version: model.version,
    task,
    featureNames,
    classes: model.classes ?? embedded?.classes ?? [],
  };
}

/** The thread's side of a score run: the plugin's scope, and the governor's switches as the thread holds them. */
export interface ScoreThreadParts {
  scope: Omit<PluginScope, "signal" | "progress">;
  pause: PauseSwitch;
  threads: ThreadAllowance;
  signal: AbortSignal;
  progress: ProgressReporter;
}

/**
 * Runs a score plugin over the run's files in the calling thread (the training thread): the model in a
 * session of its own, the files streamed in batches through the CSV byte parser, and between batches the
 * checkpoint a strategy has (cancel, memory limit, pause). Every answer counts in the run's summary.
 */
export async function scoreInThread(spec: ScoreRunSpec, parts: ScoreThreadParts): Promise<ScoreOutcome> {
  const { signal, pause, threads } = parts;
  const logger = parts.scope.logger;
  const hooks = await instantiate("score", spec.plugin.name, spec.options, {
    ...parts.scope,
    signal,
    progress: parts.progress,
  });
  const runtime = await loadOnnxRuntime({ preference: spec.runtime.preference, cacheDir: spec.runtime.cacheDir });
  const bytes = readFileSync(spec.model.path);
  const described = describedModel(spec.model, bytes);
  const session = await runtime.ort.InferenceSession.create(bytes, sessionOptions(spec.runtime.threads));
  try {
    const tally = new ScoreTally();
    const width = described.featureNames.length;
    const inputName = session.inputNames[0] ?? "features";
    const model: ScoringModel = {
      ...described,
      featureNames: [...described.featureNames],
      classes: [...described.classes],
      async predict(batch: ScoreBatch) {
        const input = new runtime.ort.Tensor("float32", batch.x.subarray(0, batch.rows * width), [batch.rows, width]);
        const predictions = batchPredictions(await session.run({ [inputName]: input }), described, batch.rows);
        tally.add(predictions);
        return predictions;
      },
    };
    const checkpoint = makeCheckpoint({
      signal,
      memoryLimitMb: spec.memoryLimitMb,
      whilePaused: () => pause.whilePaused(signal),
      whileHeldBack: (worker) => threads.whileHeldBack(worker, signal),
    });
    const sizes = spec.files.map((file) => statSync(file).size);
    const progress = new ScoreProgress(sizes, parts.progress, logger);
    const choice = (columns: readonly string[] = []) => ({
      label: "",
      features: described.featureNames,
      keep: [...columns],
      onBadCell: spec.onBadCell,
      allowMissingLabel: true,
      displayRoot: spec.paths.data,
    });
    async function* batchesOf(file: string, index: number, columns?: readonly string[]): AsyncGenerator<ScoreBatch> {
      const name = relative(spec.paths.data, file);
      for await (const batch of readCsvBatches(file, choice(columns), { batchRows: spec.batchRows })) {
        await checkpoint();
        tally.skip(batch.skipped);
        progress.advance(index, name, batch.bytesRead, batch.rows);
        if (batch.rows > 0) yield { rows: batch.rows, x: batch.x, lines: batch.lines, columns: batch.kept };
      }
      progress.fileDone(index, name);
    }
    const files: ScoreInput[] = spec.files.map((file, index) => ({
      file,
      name: relative(spec.paths.data, file),
      batches: (options) => batchesOf(file, index, options?.columns),
    }));
    const started = performance.now();
    const result = await hooks.score({ job: spec.job, key: spec.key, runDir: spec.runDir, model, files, signal });
    const seconds = (performance.now() - started) / 1000;
    return { summary: tally.summary(model, result.files, Math.round(seconds * 1000) / 1000) };
  } finally {
    await session.release();
  }
}
