import * as v from "valibot";

const MODEL_NAME_WORDS = "a model name of lower-case letters, digits, '.', '_' and '-', without '..'";

/**
 * A model name in a path: checked before it can reach the model store's folders. The store's rule
 * (MODEL_NAME, and no `..`) as one pattern and a length, since JSON Schema has no form for `v.check`
 * and the converter takes one regex: each `.` must follow a character that is not one.
 */
export const ModelName = v.pipe(v.string(), v.maxLength(128, MODEL_NAME_WORDS), v.regex(/^[a-z0-9]\.?(?:[a-z0-9_-]\.?)*$/, MODEL_NAME_WORDS));

/** A `?limit=`-style query value: digits, read as a whole number from 1 to `max`. */
export const WholeNumberQuery = (max: number) => {
  const expected = `a whole number from 1 to ${max}`;
  return v.pipe(v.string(), v.regex(/^\d+$/, expected), v.transform(Number), v.minValue(1, expected), v.maxValue(max, expected));
};

const Row = v.pipe(v.array(v.number("a number")), v.minLength(1, "at least one feature value"));

/** `{"inputs": [[…]]}` or `{"rows": [{feature: value}]}`; exactly one is checked in the handler. */
export const PredictBody = v.strictObject({
  inputs: v.optional(v.pipe(v.array(Row), v.minLength(1, "at least one row"))),
  rows: v.optional(v.pipe(v.array(v.record(v.string(), v.number("a number"))), v.minLength(1, "at least one row"))),
});
