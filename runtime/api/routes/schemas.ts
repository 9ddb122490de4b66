import * as v from "valibot";

const MODEL_NAME_WORDS = "a model name of lower-case letters, digits, '.', '_' and '-', without '..'";

/**
 * A model name in a path: checked before it can reach the model store's folders. The store's rule
 * (MODEL_NAME, and no `..`) as one pattern and a length, since JSON Schema has no form for `v.check`
 * and the converter takes one regex: each `.` must follow a character that is not one.
 */
export const ModelName = v.pipe(
  v.string(),
  v.maxLength(128, MODEL_NAME_WORDS),
  v.regex(/^[a-z0-9]\.?(?:[a-z0-9_-]\.?)*$/, MODEL_NAME_WORDS),
);

/**
 * The query of a route that changes state and takes none: a misspelt parameter (`?modle=`) is refused rather than
 * ignored, since ignoring it widens what the request does.
 */
export const NoQuery = v.strictObject({});

/** The body of such a route that takes none: left out, or `{}`; a field given is refused for the same reason. */
export const NoBody = v.optional(v.strictObject({}));

/** A `?limit=`-style query value: digits, read as a whole number from 1 to `max`. */
export const WholeNumberQuery = (max: number) => {
  const expected = `a whole number from 1 to ${max}`;
  return v.pipe(
    v.string(),
    v.regex(/^\d+$/, expected),
    v.transform(Number),
    v.minValue(1, expected),
    v.maxValue(max, expected),
  );
};

/**
 * A value of a tensor: a number, a boolean, or a list of them nested to any depth (checked against the model later).
 */
const TensorItem = v.union([v.number("a number"), v.boolean(), v.array(v.unknown())], "a number");
const Row = v.pipe(v.array(TensorItem), v.minLength(1, "at least one feature value"));
const Rows = v.pipe(v.array(Row), v.minLength(1, "at least one row"));
const Tensor = v.union([v.array(v.unknown()), v.object({ data: v.array(v.unknown()), shape: v.array(v.number()) })]);
const same = <T>(value: T) => value;

/**
 * Tensors by input name: nested lists, or flat `data` with its `shape`. valibot reads an array as a record
 * keyed "0", "1", …, so an array is refused before the record, which then marks it as not of this type:
 * rows with a wrong value are reported as rows. The document stops at the first transform, after the words.
 */
const NamedTensors = v.pipe(
  v.unknown(),
  v.description("Tensors by input name: {name: nested lists, or {data, shape}}."),
  v.transform(same),
  v.check((value) => !Array.isArray(value), "tensors by input name"),
  v.record(v.string(), Tensor),
);

/**
 * `{"inputs": [[…]]}`, `{"inputs": {"name": tensor}}` or `{"rows": [{feature: value}]}`; exactly one, checked later.
 */
export const PredictBody = v.strictObject({
  inputs: v.optional(v.union([Rows, NamedTensors])),
  rows: v.optional(v.pipe(v.array(v.record(v.string(), v.number("a number"))), v.minLength(1, "at least one row"))),
});
