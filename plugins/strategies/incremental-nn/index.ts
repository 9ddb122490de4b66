import { readFileSync } from "node:fs";
import { join } from "node:path";
import type {
  DataTable,
  OptionsOf,
  PluginContext,
  PluginLibraries,
  PluginModule,
  TrainRequest,
  TrainResult,
} from "../../../runtime/plugin-api.ts";
import { describeModel, evaluate } from "../shared/evaluation.ts";
import { classNames, encodeClasses, encodeTargets, inferTask, type Task } from "../shared/labels.ts";
import { splitByFraction } from "../shared/split.ts";
import { type Activation, createMlp, createOptimizer, type Mlp, predictMlp, trainEpoch } from "./mlp.ts";
import { mlpFromOnnx, mlpToOnnx, type Scaling } from "./onnx-model.ts";

const options = ({ v }: PluginLibraries) =>
  v.strictObject({
    task: v.optional(v.picklist(["auto", "classification", "regression"]), "auto"),
    layers: v.optional(
      v.pipe(
        v.array(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(4096))),
        v.description("Hidden layer sizes."),
      ),
      [32, 16],
    ),
    activation: v.optional(v.picklist(["relu", "tanh"]), "relu"),
    learning_rate: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(10)), 0.01),
    batch_size: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 64),
    epochs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100_000)), 20),
    seed: v.optional(v.pipe(v.number(), v.integer()), 0),
    warm_start: v.optional(
      v.pipe(v.boolean(), v.description("Continue from the active version's weights and standardisation.")),
      false,
    ),
    test_fraction: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(0.9)), 0.2),
  });

type Options = OptionsOf<typeof options>;

interface Start {
  mlp: Mlp;
  scaling: Scaling;
  warm: boolean;
  note?: string;
}

function standardise(table: DataTable, scaling: Scaling): Float32Array {
  const width = table.featureNames.length;
  const out = new Float32Array(table.x.length);
  for (let i = 0; i < table.rows; i++)
    for (let j = 0; j < width; j++) out[i * width + j] = (table.x[i * width + j]! - scaling.mean[j]!) / scaling.std[j]!;
  return out;
}

function fitScaling(table: DataTable, targets?: Float32Array): Scaling {
  const width = table.featureNames.length;
  const mean = new Float32Array(width);
  const std = new Float32Array(width);
  for (let j = 0; j < width; j++) {
    let sum = 0;
    let squares = 0;
    for (let i = 0; i < table.rows; i++) {
      const value = table.x[i * width + j]!;
      sum += value;
      squares += value * value;
    }
    const m = sum / table.rows;
    mean[j] = m;
    // A constant column keeps std 1 so the graph never divides by zero.
    std[j] = Math.sqrt(Math.max(squares / table.rows - m * m, 0)) || 1;
  }
  let targetMean = 0;
  let targetStd = 1;
  if (targets) {
    targetMean = targets.reduce((a, b) => a + b, 0) / targets.length;
    targetStd = Math.sqrt(targets.reduce((a, b) => a + (b - targetMean) ** 2, 0) / targets.length) || 1;
  }
  return { mean, std, targetMean, targetStd };
}

/** The starting point: the active version's weights (warm start) when they fit this data, else fresh ones. */
function startingPoint(
  settings: Options,
  request: TrainRequest,
  train: DataTable,
  task: Task,
  classes: string[],
  targets?: Float32Array,
): Start {
  const outputs = task === "classification" ? classes.length : 1;
  const sizes = [train.featureNames.length, ...settings.layers, outputs];
  const cold = (note?: string): Start => ({
    mlp: createMlp(sizes, settings.activation, settings.seed),
    scaling: fitScaling(train, targets),
    warm: false,
    note,
  });
  if (!settings.warm_start) return cold();
  if (!request.previousArtifact) return cold("warm_start: no active version yet, started cold");
  let previous: ReturnType<typeof mlpFromOnnx>;
  try {
    previous = mlpFromOnnx(readFileSync(request.previousArtifact));
  } catch (error) {
    // A damaged active version is what a new run replaces: it must not stop that run.
    return cold(
      `warm_start: the active version's file ${request.previousArtifact} cannot be read ` +
        `(${(error as Error).message}); started cold`,
    );
  }
  const described = JSON.parse(previous.metadata.edgetrain ?? "{}") as {
    feature_names?: string[];
    classes?: string[];
    task?: string;
  };
  const same = (a: unknown[] | undefined, b: unknown[]) => JSON.stringify(a ?? []) === JSON.stringify(b);
  if (
    described.task !== task ||
    !same(described.feature_names, train.featureNames) ||
    !same(described.classes, classes) ||
    !same(previous.mlp.sizes, sizes) ||
    previous.activation !== settings.activation
  ) {
    return cold("warm_start: the active version has other features, classes or layers; started cold");
  }
  return {
    mlp: { ...previous.mlp, activation: settings.activation as Activation },
    scaling: previous.scaling,
    warm: true,
  };
}

async function train(context: PluginContext<Options>, request: TrainRequest): Promise<TrainResult> {
  const settings = context.options;
  const data = await request.loadData();
  const { train: trainTable, test } = data.test
    ? { train: data.train, test: data.test }
    : splitByFraction(data.train, settings.test_fraction, settings.seed);
  if (trainTable.rows === 0) throw new Error("no training rows");
  const task = inferTask(trainTable.labels, settings.task);
  const classification = task === "classification";
  const classes = classification ? classNames(trainTable.labels) : [];
  if (classes.length > 254) throw new Error(`${classes.length} classes: incremental-nn handles at most 254`);
  const targets = classification ? undefined : encodeTargets(trainTable, "training data");
  const start = startingPoint(settings, request, trainTable, task, classes, targets);
  if (start.note) context.logger.warn(start.note, { job: request.job, key: request.key });
  const { mlp, scaling } = start;
  const y = classification
    ? encodeClasses(trainTable, classes)
    : Float32Array.from(targets!, (t) => (t - scaling.targetMean) / scaling.targetStd);
  const batches = { x: standardise(trainTable, scaling), rows: trainTable.rows, y, classification };
  const optimizer = createOptimizer(mlp);
  const losses: number[] = [];
  for (let epoch = 0; epoch < settings.epochs; epoch++) {
    await request.checkpoint();
    const loss = trainEpoch(
      mlp,
      optimizer,
      batches,
      { learningRate: settings.learning_rate, batchSize: settings.batch_size, seed: settings.seed },
      epoch,
    );
    if (!Number.isFinite(loss)) throw new Error(`loss became ${loss} at epoch ${epoch + 1}: lower learning_rate`);
    losses.push(loss);
    request.progress.update(
      epoch + 1,
      settings.epochs,
      `epoch ${epoch + 1}/${settings.epochs} loss ${loss.toFixed(4)}`,
    );
  }

  let metrics: Record<string, number> = { loss: losses.at(-1)! };
  if (test && test.rows > 0) {
    const outputs = predictMlp(mlp, standardise(test, scaling), test.rows, classification);
    const predictions = classification
      ? outputs
      : Float32Array.from(outputs, (z) => z * scaling.targetStd + scaling.targetMean);
    metrics = { ...metrics, ...evaluate(task, test, classes, predictions) };
  }
  const description = describeModel(task, trainTable, classes, "incremental-nn", settings, metrics, {
    warm_started: start.warm,
  });
  const artifact = context.libraries.writeAtomically(
    join(request.runDir, "model.onnx"),
    mlpToOnnx(mlp, scaling, classification, { edgetrain: JSON.stringify(description) }),
  );
  return {
    artifact,
    metrics,
    metadata: { ...description, losses, rows: trainTable.rows, test_rows: test?.rows ?? 0, data: data.summary },
  };
}

export default {
  kind: "strategy",
  name: "incremental-nn",
  version: "1.0.0",
  maxRuntime: "6h",
  description:
    "Small multilayer perceptron in TypeScript; warm_start continues from the active version. Exports ONNX Gemm/Relu.",
  options,
  setup: (context: PluginContext<Options>) => ({ train: (request: TrainRequest) => train(context, request) }),
} satisfies PluginModule<"strategy", ReturnType<typeof options>>;
