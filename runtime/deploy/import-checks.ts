import { statSync } from "node:fs";
import { basename } from "node:path";
import type * as Ort from "onnxruntime-common";
import { EdgetrainError, messageOf } from "../errors.ts";
import { type ModelSignature, tableWidth } from "../inference/model-signature.ts";
import type { ImportRequest } from "./model-import.ts";

/** Feature names apply to a model that takes one float32 table, one name per column. */
export function checkFeatures(request: ImportRequest, signature: ModelSignature, features: string[] | undefined): void {
  if (!features) return;
  const width = tableWidth(signature);
  const inputs = signature.inputs.map((i) => `${i.name} ${i.type} [${i.shape.join(", ")}]`).join(", ");
  if (width === undefined)
    throw new EdgetrainError(
      "bad_input",
      `${basename(request.file)} takes ${inputs}, not one table of features: leave out --features and give its ` +
        `inputs by name`,
      { details: { field: "features" } },
    );
  if (width !== features.length)
    throw new EdgetrainError(
      "bad_input",
      `${basename(request.file)} takes ${width} features, but ${features.length} are named ` +
        `(${features.slice(0, 8).join(", ")})`,
      { details: { field: "features", expected: width, got: features.length } },
    );
}

/** Class names name the columns of the model's probabilities: as many as it gives, or answers would mislabel them. */
export function checkClasses(
  request: ImportRequest,
  outputs: Ort.InferenceSession.ReturnType,
  classes: string[] | undefined,
): void {
  if (!classes?.length) return;
  const probabilities = Object.entries(outputs).find(([name, t]) => /prob/i.test(name) && t.dims.length === 2);
  if (!probabilities) return;
  const [name, tensor] = probabilities;
  const columns = Number(tensor.dims[1]);
  if (columns !== classes.length)
    throw new EdgetrainError(
      "bad_input",
      `${basename(request.file)} gives ${columns} class probabilities (output ${name}), but ${classes.length} ` +
        `classes are named (${classes.slice(0, 8).join(", ")}); model ${request.model} unchanged`,
      { details: { field: "classes", expected: columns, got: classes.length } },
    );
}

/** A name given twice: a request by name would feed one value to both features, or a class would hide another. */
export function refuseRepeats(
  request: ImportRequest,
  field: "features" | "classes",
  names: string[] | undefined,
): void {
  const repeated = names?.find((name, index) => names.indexOf(name) !== index);
  if (repeated !== undefined)
    throw new EdgetrainError(
      "bad_input",
      `${basename(request.file)}: ${field} names "${repeated}" twice; model ${request.model} unchanged`,
      { details: { field, name: repeated } },
    );
}

/** A classifier answers a label (and probabilities); a regressor a value: the task given must be the one it has. */
export function checkTask(
  request: ImportRequest,
  outputs: Ort.InferenceSession.ReturnType,
  task: ImportRequest["task"],
): void {
  if (task === undefined) return;
  const names = Object.keys(outputs);
  const classifier = names.some((name) => /label$/i.test(name) || /prob/i.test(name));
  if ((task === "regression") === classifier)
    throw new EdgetrainError(
      "bad_input",
      `${basename(request.file)} answers ${classifier ? "classes" : "values"} (outputs ${names.join(", ")}), ` +
        `not as task ${task} says; model ${request.model} unchanged`,
      { details: { field: "task", task, outputs: names } },
    );
}

/** A device, pipe or folder named as the CSV would be read without end (`/dev/zero`) or not at all. */
export function requireRegularFile(path: string): void {
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch (error) {
    throw new EdgetrainError("data_invalid", `${path} cannot be read: ${messageOf(error)}`, {
      details: { field: "features_from", file: path },
    });
  }
  if (!isFile)
    throw new EdgetrainError("bad_input", `${path} is not a regular file: features_from names a CSV file`, {
      details: { field: "features_from", file: path },
    });
}
