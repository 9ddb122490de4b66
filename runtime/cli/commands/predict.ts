import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { readCsvHeader, readCsvTable } from "../../data/csv-table.ts";
import { csvFilesIn } from "../../data/load-training-data.ts";
import { EdgetrainError } from "../../errors.ts";
import { readModelDescription } from "../../inference/model-metadata.ts";
import { loadOnnxRuntime } from "../../inference/onnx-runtime.ts";
import { predictionsOf, scorePredictions } from "../../scoring/score-predictions.ts";
import { type Command, listFlag, stringFlag } from "../command.ts";
import { homeOptions, loadValidHomeProfile } from "../home.ts";
import { writeJson } from "../json-answer.ts";

export const predictCommand: Command = {
  name: "predict",
  summary: "run an ONNX model through ONNX Runtime on a CSV file",
  description:
    "Reads the model's feature names from its metadata, takes those columns from the CSV (in the model's order), and " +
    "prints one prediction per row (class name, or value). When the CSV has the label column, accuracy or RMSE is " +
    "printed too.",
  options: {
    model: { type: "string", value: "FILE", description: "the ONNX model (written by edgetrain fit or a job)" },
    data: { type: "string", multiple: true, value: "PATH", description: "CSV file or folder to predict" },
    label: { type: "string", value: "COL", description: "label column, scored when present (default label)" },
    json: { type: "boolean", description: "print {model, backend, rows, predictions, …} as JSON" },
    ...homeOptions,
  },
  examples: [
    "edgetrain predict --model model.onnx --data test.csv",
    "edgetrain predict --model model.onnx --data sessions/ --json",
  ],
  async run(args, io) {
    const modelPath = stringFlag(args, "model");
    const dataPaths = listFlag(args, "data");
    if (!modelPath || dataPaths.length === 0)
      throw new EdgetrainError("usage", "edgetrain predict: --model FILE and --data FILE are required");
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(resolve(modelPath));
    } catch {
      throw new EdgetrainError("data_invalid", `${modelPath}: no such model file`);
    }
    const description = readModelDescription(bytes, modelPath);
    if (!description)
      throw new EdgetrainError("data_invalid", `${modelPath} has no edgetrain metadata: feature names unknown`, {
        hint: "train it with edgetrain fit, or give it metadata_props[edgetrain]",
      });
    const label = stringFlag(args, "label") ?? "label";
    const files = dataPaths.flatMap((path) => csvFilesIn(resolve(path)));
    const hasLabel = files.length > 0 && (await readCsvHeader(files[0]!)).includes(label);
    const table = await readCsvTable(files, {
      label: hasLabel ? label : "",
      features: description.feature_names,
      onBadCell: "fail",
      allowMissingLabel: !hasLabel,
    });

    const { loaded, paths } = loadValidHomeProfile(args, io);
    const cacheDir = paths.cache;
    const runtime = await loadOnnxRuntime({ preference: loaded.profile?.inference.backend ?? "auto", cacheDir });
    const session = await runtime.ort.InferenceSession.create(bytes);
    const rows = table.labels.length;
    const features = description.feature_names.length;
    const outputs = await session.run({ features: new runtime.ort.Tensor("float32", table.x, [rows, features]) });
    const predictions = predictionsOf(outputs, description.classes, rows);
    const report: Record<string, unknown> = { model: modelPath, backend: runtime.backend, rows, features };
    if (hasLabel) {
      const score = scorePredictions(description.task, predictions, table.labels);
      report[score.metric] = score.value;
    }
    await session.release();
    if (args.values.json) writeJson(io, { ...report, predictions });
    else {
      io.stdout.write(`${predictions.join("\n")}\n`);
      if (hasLabel) {
        const score =
          description.task === "classification"
            ? `accuracy ${(report.accuracy as number).toFixed(4)}`
            : `rmse ${(report.rmse as number).toFixed(4)}`;
        io.stderr.write(`${rows} rows; ${score} (ONNX Runtime ${runtime.backend})\n`);
      }
    }
    return 0;
  },
};
