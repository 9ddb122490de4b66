import { EdgetrainError } from "../errors.ts";

/** `{"inputs": [[…], …]}` in the model's feature order, or `{"rows": [{feature: value}]}` by name. */
export interface TableRequest {
  inputs?: number[][];
  rows?: Array<Record<string, number>>;
}

/** A table as above; or, for a model that takes other tensors, one tensor (nested arrays) or tensors by input name. */
export interface PredictionRequest {
  inputs?: unknown[] | Record<string, unknown>;
  rows?: Array<Record<string, number>>;
}

/**
 * Turns a request into a row-major float32 batch after checking it against the model's features, so that
 * a wrong shape is a 400 naming the row and feature rather than an ONNX Runtime error.
 */
export function toFeatureBatch(
  request: TableRequest,
  featureNames: string[],
  model: string,
  maxRows: number,
): { x: Float32Array; rows: number } {
  const width = featureNames.length;
  const given = request.inputs ?? request.rows;
  if ((request.inputs === undefined) === (request.rows === undefined))
    throw new EdgetrainError(
      "bad_input",
      `give either "inputs" (arrays of ${width} numbers) or "rows" (objects keyed by feature name), not ` +
        `${request.inputs ? "both" : "neither"}`,
      { details: { field: "inputs" } },
    );
  if (!given || given.length === 0)
    throw new EdgetrainError("bad_input", `${request.inputs ? "inputs" : "rows"}: at least one row is needed`, {
      details: { field: request.inputs ? "inputs" : "rows" },
    });
  if (given.length > maxRows)
    throw new EdgetrainError(
      "bad_input",
      `${request.inputs ? "inputs" : "rows"}: ${given.length} rows, more than the ${maxRows} allowed in one request`,
      { details: { field: request.inputs ? "inputs" : "rows" } },
    );
  const x = new Float32Array(given.length * width);
  if (request.inputs) {
    request.inputs.forEach((row, i) => {
      if (row.length !== width)
        throw new EdgetrainError(
          "bad_input",
          `inputs[${i}]: model ${model} takes ${width} features (${preview(featureNames)}), got ${row.length}`,
          { details: { field: `inputs[${i}]`, expected: width, got: row.length } },
        );
      row.forEach((value, j) => {
        put(x, i * width + j, value, `inputs[${i}][${j}]`, ` (${featureNames[j]})`);
      });
    });
  } else {
    const known = new Set(featureNames);
    request.rows!.forEach((row, i) => {
      const unknown = Object.keys(row).find((name) => !known.has(name));
      if (unknown !== undefined)
        throw new EdgetrainError("bad_input", `rows[${i}].${unknown}: model ${model} has no feature "${unknown}"`, {
          details: { field: `rows[${i}].${unknown}` },
          hint: `features: ${preview(featureNames)}`,
        });
      featureNames.forEach((name, j) => {
        const value = row[name];
        if (value === undefined)
          throw new EdgetrainError(
            "bad_input",
            `rows[${i}].${name}: missing (model ${model} needs ${width} features: ${preview(featureNames)})`,
            { details: { field: `rows[${i}].${name}` } },
          );
        put(x, i * width + j, value, `rows[${i}].${name}`, "");
      });
    });
  }
  return { x, rows: given.length };
}

/** Models take float32: a number JSON allows may still be beyond it (1e39 would reach them as Infinity). */
function put(x: Float32Array, index: number, value: number, field: string, feature: string): void {
  if (!Number.isFinite(value))
    throw new EdgetrainError("bad_input", `${field}${feature}: not a finite number`, { details: { field } });
  x[index] = value;
  if (!Number.isFinite(x[index]!))
    throw new EdgetrainError(
      "bad_input",
      `${field}${feature}: ${value} is beyond the float32 range models take (±3.4e38)`,
      { details: { field } },
    );
}

function preview(names: string[]): string {
  return names.length <= 8 ? names.join(", ") : `${names.slice(0, 8).join(", ")}, … ${names.length - 8} more`;
}
