import * as v from "valibot";
import type { ImportRequest } from "../../deploy/model-import.ts";
import { EdgetrainError } from "../../errors.ts";

const Flag = v.picklist(["true", "false", "1", "0"], "true or false");
/** Elysia's query parser splits a value at its commas (`a,b` as ["a", "b"]); joined again, it is the text sent. */
const Text = v.union([v.string(), v.array(v.string())], "text");

/** `POST /v1/models/:name/versions`'s metadata; each may come as a header `x-edgetrain-NAME` instead (`_` as `-`). */
export const ImportQuery = v.strictObject({
  file: v.optional(v.pipe(Text, v.description("The file's name, for the record (model.onnx when left out)."))),
  features: v.optional(v.pipe(Text, v.description("The feature names, comma-separated, in the model's column order."))),
  features_from: v.optional(
    v.pipe(
      Text,
      v.description(
        "A CSV file on the device whose header names the features; with a label column its rows are held out for the " +
          "gate.",
      ),
    ),
  ),
  label: v.optional(v.pipe(Text, v.description("The label column of features_from (label)."))),
  classes: v.optional(
    v.pipe(Text, v.description("The class names, comma-separated, in the order of the probability columns.")),
  ),
  task: v.optional(v.picklist(["classification", "regression"], "classification or regression")),
  activate: v.optional(
    v.pipe(Flag, v.description("Through the deploy steps (gate, activate) at once (false: stored as a candidate).")),
  ),
  converter: v.optional(
    v.pipe(
      Text,
      v.description(
        "For a body that a converter made from a file of another framework (edgetrain models add model.pkl): its name.",
      ),
    ),
  ),
  source_sha256: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[0-9a-f]{64}$/, "a sha256 in hex"),
      v.description("With converter: the given file's sha256."),
    ),
  ),
  conversion: v.optional(v.pipe(Text, v.description("With converter: what it converted, in words."))),
});

const list = (text: string | undefined) =>
  text === undefined
    ? undefined
    : text
        .split(",")
        .map((item) => item.trim())
        .filter(Boolean);

export function importRequest(
  model: string,
  query: v.InferOutput<typeof ImportQuery>,
  headers: Headers,
  bytes: Uint8Array,
): ImportRequest {
  const field = (name: keyof typeof query) => {
    const given = query[name];
    const text = Array.isArray(given) ? given.join(",") : given;
    return text ?? headerField(headers, name);
  };
  if (bytes.byteLength === 0)
    throw new EdgetrainError(
      "bad_input",
      `model ${model}: send the ONNX file as the body (Content-Type: application/octet-stream)`,
      { details: { field: "body" } },
    );
  // Checked by ImportQuery, whether it came as the query or as a header.
  const task = field("task") as "classification" | "regression" | undefined;
  const activate = field("activate");
  const converter = field("converter");
  const sha256 = field("source_sha256");
  if (converter !== undefined && (sha256 === undefined || !/^[0-9a-f]{64}$/.test(sha256)))
    throw new EdgetrainError("bad_input", "converter: send the converted file's source_sha256 (64 hex) with it", {
      details: { field: "source_sha256" },
    });
  return {
    model,
    file: field("file") ?? "model.onnx",
    bytes,
    features: list(field("features")),
    featuresFrom: field("features_from"),
    label: field("label"),
    classes: list(field("classes")),
    task,
    activate: activate === "true" || activate === "1",
    ...(converter !== undefined
      ? { converted: { converter, sha256: sha256!, description: field("conversion") ?? `converted by ${converter}` } }
      : {}),
  };
}

/**
 * A metadata header, checked by the query's own schema: a header the query form would refuse (`activate: yes`) must
 * not be taken as a different answer (false) instead.
 */
function headerField(headers: Headers, name: keyof typeof ImportQuery.entries): string | undefined {
  const header = `x-edgetrain-${name.replaceAll("_", "-")}`;
  const text = headers.get(header) ?? undefined;
  if (text === undefined) return undefined;
  const checked = v.safeParse(ImportQuery.entries[name], text);
  if (!checked.success)
    throw new EdgetrainError(
      "bad_request",
      `header ${header}: ${checked.issues[0].message}, not ${JSON.stringify(text)}`,
      {
        details: { field: header },
      },
    );
  return text;
}
