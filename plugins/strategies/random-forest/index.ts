import { join } from "node:path";
import type {
  OptionsOf,
  PluginContext,
  PluginLibraries,
  PluginModule,
  TrainRequest,
  TrainResult,
} from "../../../runtime/plugin-api.ts";
import { describeModel, evaluate } from "../shared/evaluation.ts";
import { classNames, encodeClasses, encodeTargets, inferTask } from "../shared/labels.ts";
import { splitByFraction } from "../shared/split.ts";
import { trainForest } from "./forest.ts";
import { ForestOutputs } from "./forest-outputs.ts";
import { forestToOnnx } from "./onnx-export.ts";

const options = ({ v }: PluginLibraries) =>
  v.strictObject({
    task: v.optional(
      v.pipe(
        v.picklist(["auto", "classification", "regression"]),
        v.description("auto: classification for text or few integer labels."),
      ),
      "auto",
    ),
    n_estimators: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(10_000)), 100),
    max_depth: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(64)), 8),
    min_samples_split: v.optional(v.pipe(v.number(), v.integer(), v.minValue(2)), 2),
    min_samples_leaf: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 1),
    max_features: v.optional(
      v.union(
        [v.picklist(["sqrt", "log2"]), v.pipe(v.number(), v.minValue(0), v.maxValue(1_000_000))],
        "sqrt, log2, a fraction ≤ 1 or a count",
      ),
    ),
    bootstrap: v.optional(v.boolean(), true),
    seed: v.optional(v.pipe(v.number(), v.integer()), 0),
    n_jobs: v.optional(
      v.pipe(
        v.number(),
        v.integer(),
        v.minValue(1),
        v.maxValue(256),
        v.description("Worker threads; default governor.workers, else 1."),
      ),
    ),
    test_fraction: v.optional(
      v.pipe(
        v.number(),
        v.minValue(0),
        v.maxValue(0.9),
        v.description("Held out for metrics when the data source holds out nothing."),
      ),
      0.2,
    ),
  });

type Options = OptionsOf<typeof options>;

/** Features tried per split; scikit-learn's defaults: √F for classification, all for regression. */
function featuresPerSplit(
  setting: Options["max_features"],
  features: number,
  task: "classification" | "regression",
): number {
  const chosen = setting ?? (task === "classification" ? "sqrt" : 1.0);
  const count =
    chosen === "sqrt"
      ? Math.sqrt(features)
      : chosen === "log2"
        ? Math.log2(features)
        : chosen <= 1
          ? chosen * features
          : chosen;
  return Math.min(features, Math.max(1, Math.floor(count)));
}

async function train(context: PluginContext<Options>, request: TrainRequest): Promise<TrainResult> {
  const settings = context.options;
  const data = await request.loadData();
  const split = data.test
    ? { train: data.train, test: data.test }
    : splitByFraction(data.train, settings.test_fraction, settings.seed);
  const { train: trainTable, test } = split;
  if (trainTable.rows === 0) throw new Error("no training rows");
  const task = inferTask(trainTable.labels, settings.task);
  const classes = task === "classification" ? classNames(trainTable.labels) : [];
  if (classes.length > 254) throw new Error(`${classes.length} classes: random-forest handles at most 254`);
  const features = trainTable.featureNames.length;
  const jobs = settings.n_jobs ?? request.workers ?? 1;
  // The held-out rows' outputs are added up as trees arrive, on this thread while the workers grow more.
  const heldOut =
    test && test.rows > 0
      ? new ForestOutputs(
          test.x,
          test.rows,
          features,
          task === "classification" ? classes.length : 1,
          settings.n_estimators,
        )
      : undefined;
  const forest = await trainForest(
    {
      x: trainTable.x,
      rows: trainTable.rows,
      features,
      y: task === "classification" ? encodeClasses(trainTable, classes) : encodeTargets(trainTable, "training data"),
      task,
      classCount: classes.length,
    },
    {
      trees: settings.n_estimators,
      maxDepth: settings.max_depth,
      minSamplesSplit: settings.min_samples_split,
      minSamplesLeaf: settings.min_samples_leaf,
      maxFeatures: featuresPerSplit(settings.max_features, features, task),
      bootstrap: settings.bootstrap,
      seed: settings.seed,
      jobs,
    },
    {
      between: (worker) => request.checkpoint(worker),
      onTree: (done, total) => request.progress.update(done, total, `tree ${done}/${total}`),
      onGrown: heldOut && ((index, tree) => heldOut.add(index, tree)),
    },
  );

  const metrics = test && heldOut ? evaluate(task, test, classes, heldOut.result()) : {};
  const description = describeModel(task, trainTable, classes, "random-forest", settings, metrics);
  const bytes = forestToOnnx(forest, { edgetrain: JSON.stringify(description) });
  const artifact = context.libraries.writeAtomically(join(request.runDir, "model.onnx"), bytes);
  context.logger.info("random forest trained", {
    job: request.job,
    key: request.key,
    trees: forest.trees.length,
    rows: trainTable.rows,
    ...metrics,
  });
  return {
    artifact,
    metrics,
    metadata: { ...description, rows: trainTable.rows, test_rows: test?.rows ?? 0, data: data.summary, workers: jobs },
  };
}

export default {
  kind: "strategy",
  name: "random-forest",
  version: "1.0.0",
  maxRuntime: "2h",
  description:
    "Random forest classifier or regressor in TypeScript (histogram splits, Bun workers); exports ONNX TreeEnsemble.",
  options,
  setup: (context: PluginContext<Options>) => ({ train: (request: TrainRequest) => train(context, request) }),
} satisfies PluginModule<"strategy", ReturnType<typeof options>>;
