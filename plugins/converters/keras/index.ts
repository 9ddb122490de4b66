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
import { findPython, pythonOptions, runPythonHelper } from "../python-helper.ts";
import exportKeras from "./export_keras.py" with { type: "text" };

const options = (libraries: PluginLibraries) => libraries.v.strictObject(pythonOptions(libraries));

type Options = OptionsOf<typeof options>;

const TF2ONNX = {
  name: "tf2onnx (with TensorFlow)",
  install: "pip install tensorflow tf2onnx",
  converter: "keras",
};

/** What export_keras.py says it exported, beside the ONNX file. */
interface Exported {
  module: string;
  inputs: Array<Array<number | null>>;
  tensorflow: string;
  tf2onnx: string;
}

/**
 * The device's own TensorFlow loads the Keras file and tf2onnx exports it with a dynamic batch dimension;
 * only where both are installed (TensorFlow is large, and absent from most edge devices).
 */
async function convert(context: PluginContext<Options>, request: ConvertRequest): Promise<ConvertResult> {
  const python = await findPython(context.options, "tf2onnx", TF2ONNX, request.signal);
  const out = join(request.workDir, "model.onnx");
  const shape = request.exampleInput?.join(",") ?? "";
  const script = { name: "export_keras.py", text: exportKeras };
  await runPythonHelper(context, request, python, script, [request.file, out, shape]);
  const exported = JSON.parse(await readFile(`${out}.json`, "utf8")) as Exported;
  const inputs = exported.inputs.map((dims) => `[${dims.map((size) => size ?? "batch").join(", ")}]`).join(", ");
  const versions = `TensorFlow ${exported.tensorflow}, tf2onnx ${exported.tf2onnx}`;
  return { onnx: out, description: `Keras ${exported.module}, input ${inputs} (${versions})` };
}

export default {
  kind: "converter",
  name: "keras",
  version: "1.0.0",
  extensions: [".keras", ".h5"],
  description: "Keras models (.keras, .h5) through tf2onnx, where TensorFlow and tf2onnx are installed.",
  options,
  setup: (context: PluginContext<Options>) => ({ convert: (request: ConvertRequest) => convert(context, request) }),
} satisfies PluginModule<"converter", ReturnType<typeof options>>;
