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
import exportTorch from "./export_torch.py" with { type: "text" };

const options = (libraries: PluginLibraries) => libraries.v.strictObject(pythonOptions(libraries));

type Options = OptionsOf<typeof options>;

const PYTORCH = { name: "PyTorch", install: "apt install python3-torch, or pip install torch", converter: "pytorch" };

/** What export_torch.py says it exported, beside the ONNX file. */
interface Exported {
  kind: string;
  module: string;
  shape: number[];
  guessed: boolean;
  outputs: string[];
  torch: string;
}

/**
 * The device's own torch loads a TorchScript file or a pickled module and exports it with
 * torch.onnx.export: input `input` with a dynamic batch dimension, outputs `output` (or output_0, …).
 * `--example-input` gives the input's shape; without it, a model whose first weight is a Linear
 * layer's takes rows of its width.
 */
async function convert(context: PluginContext<Options>, request: ConvertRequest): Promise<ConvertResult> {
  const python = await findPython(context.options, "torch", PYTORCH, request.signal);
  const out = join(request.workDir, "model.onnx");
  const shape = request.exampleInput?.join(",") ?? "";
  const script = { name: "export_torch.py", text: exportTorch };
  await runPythonHelper(context, request, python, script, [request.file, out, shape]);
  const exported = JSON.parse(await readFile(`${out}.json`, "utf8")) as Exported;
  const input = `[batch, ${exported.shape.slice(1).join(", ")}]${exported.guessed ? " (from its first layer)" : ""}`;
  const outputs = exported.outputs.join(", ");
  const description = `${exported.kind} ${exported.module}, input ${input}, outputs ${outputs}`;
  context.logger.info("PyTorch model exported", { file: request.file, shape: exported.shape });
  return { onnx: out, description: `${description} (torch ${exported.torch})` };
}

export default {
  kind: "converter",
  name: "pytorch",
  version: "1.0.0",
  extensions: [".pt", ".pth"],
  description: "PyTorch TorchScript files and pickled modules (.pt) through torch.onnx.export, with a dynamic batch.",
  options,
  setup: (context: PluginContext<Options>) => ({ convert: (request: ConvertRequest) => convert(context, request) }),
} satisfies PluginModule<"converter", ReturnType<typeof options>>;
