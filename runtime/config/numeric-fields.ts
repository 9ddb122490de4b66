import * as v from "valibot";

/** Number fields shared by the profile schema's sections, each with its description. */
export const percent = (text: string) => v.pipe(v.number(), v.minValue(0), v.maxValue(100), v.description(text));
export const positiveInt = (text: string) => v.pipe(v.number(), v.integer(), v.minValue(1), v.description(text));
