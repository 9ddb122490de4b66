import * as v from "valibot";

/** Fields that the answers of many routes share (response-schemas.ts and its parts). */
export const Text = v.string();
export const Count = v.number();
export const Metrics = v.pipe(
  v.record(v.string(), v.number()),
  v.description("Metric name to value, such as accuracy or rmse."),
);
export const Fields = v.record(v.string(), v.unknown());
export const UnixMs = (what: string) => v.pipe(v.number(), v.description(`${what}, in milliseconds since 1970 (UTC).`));
export const IsoTime = (what: string) => v.pipe(v.string(), v.description(`${what}, ISO 8601.`));
export const JobPlugin = v.pipe(v.string(), v.description("Its training strategy, or a score job's score plugin."));
