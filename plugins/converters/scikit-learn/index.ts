import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type {
  ConvertRequest,
  ConvertResult,
  OptionsOf,
  PluginContext,
  PluginLibraries,
  PluginModule,
} from "../../../runtime/plugin-api.ts";
import { forestToOnnx } from "../../strategies/random-forest/onnx-export.ts";
import { findPython, pythonOptions, runPythonHelper } from "../python-helper.ts";
import dumpForest from "./dump_forest.py" with { type: "text" };
import { type ForestDump, forestOfDump } from "./forest-dump.ts";

const options = (libraries: PluginLibraries) => libraries.v.strictObject(pythonOptions(libraries));

type Options = OptionsOf<typeof options>;

const SCIKIT_LEARN = {
  name: "scikit-learn",
  install: "apt install python3-sklearn, or pip install scikit-learn",
  converter: "scikit-learn",
};

/**
 * The device's own scikit-learn loads the pickle and dumps each tree's arrays; the TreeEnsemble is built
 * here by the random-forest strategy's exporter, so skl2onnx is not needed and the model answers like
 * edgetrain's own forests (`label` and `probabilities`, or `variable`).
 */
async function convert(context: PluginContext<Options>, request: ConvertRequest): Promise<ConvertResult> {
  const python = await findPython(context.options, "sklearn", SCIKIT_LEARN, request.signal);
  const out = join(request.workDir, "forest.json");
  await runPythonHelper(context, request, python, { name: "dump_forest.py", text: dumpForest }, [request.file, out]);
  const dump = JSON.parse(await readFile(out, "utf8")) as ForestDump;
  const forest = forestOfDump(dump);
  const featureNames = dump.feature_names ?? Array.from({ length: dump.n_features }, (_, i) => `x${i}`);
  const trees = `${dump.trees.length} trees on ${dump.n_features} features`;
  const description = `${dump.estimator} of ${trees} (scikit-learn ${dump.sklearn})`;
  const metadata = {
    task: dump.task,
    feature_names: featureNames,
    classes: dump.classes ?? [],
    converted: description,
  };
  const onnx = context.libraries.writeAtomically(
    join(request.workDir, "model.onnx"),
    forestToOnnx(forest, { edgetrain: JSON.stringify(metadata) }),
  );
  context.logger.info("scikit-learn forest converted", { file: request.file, trees: dump.trees.length });
  return { onnx, task: dump.task, featureNames: dump.feature_names, classes: dump.classes, description };
}

export default {
  kind: "converter",
  name: "scikit-learn",
  version: "1.0.0",
  extensions: [".pkl", ".pickle", ".joblib"],
  description:
    "scikit-learn RandomForest and ExtraTrees classifiers and regressors (.pkl, .joblib) as ONNX TreeEnsembles.",
  options,
  setup: (context: PluginContext<Options>) => ({ convert: (request: ConvertRequest) => convert(context, request) }),
} satisfies PluginModule<"converter", ReturnType<typeof options>>;
