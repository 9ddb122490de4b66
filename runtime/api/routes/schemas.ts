import * as v from "valibot";
import { MODEL_NAME } from "../../store/model-name.ts";

/** A model name in a path: checked before it can reach the model store's folders. */
export const ModelName = v.pipe(v.string(), v.regex(MODEL_NAME, "a model name of lower-case letters, digits, '.', '_' and '-'"), v.check((name) => !name.includes(".."), "a model name without '..'"));

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
