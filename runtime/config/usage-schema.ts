import * as v from "valibot";
import { positiveInt } from "./numeric-fields.ts";

const doc = v.description;

const UsageWeights = v.strictObject({
  players: v.optional(v.pipe(v.number(), v.minValue(0)), 1),
  cpu: v.optional(v.pipe(v.number(), v.minValue(0)), 0.5),
  memory: v.optional(v.pipe(v.number(), v.minValue(0)), 0.5),
});

const UsageSource = v.pipe(
  v.strictObject({
    type: v.pipe(
      v.picklist(["self", "sql", "csv"]),
      doc(
        "self: edgetrain's own record of load and API requests; sql: a query (url, query); csv: a file (path, " +
          "timestamp).",
      ),
    ),
    weight: v.optional(
      v.pipe(v.number(), v.minValue(0), doc("This source's share of the combined hour-of-week score.")),
      1,
    ),
    weights: v.optional(v.pipe(UsageWeights, doc("How its metrics weigh against each other; default usage.weights."))),
    url: v.optional(v.pipe(v.string(), doc("sql: postgres://… or mysql://…; put credentials in ${VARIABLES}."))),
    query: v.optional(
      v.pipe(
        v.string(),
        doc("sql: returns a column `at` and any of players, cpu, memory; $1 is the start of the history."),
      ),
    ),
    path: v.optional(v.pipe(v.string(), doc("csv: the file, relative to paths.data."))),
    timestamp: v.optional(v.pipe(v.string(), doc("csv: the timestamp column.")), "timestamp"),
  }),
  v.check(
    (source) => source.type !== "sql" || (source.url !== undefined && source.query !== undefined),
    "a sql source needs url and query",
  ),
  v.check((source) => source.type !== "csv" || source.path !== undefined, "a csv source needs path"),
);

/**
 * The profile's `usage:` section (part of runtime/config/schema.ts): activity history that off-peak windows are learnt
 * from.
 */
export const Usage = v.strictObject({
  source: v.optional(
    v.pipe(
      v.picklist(["none", "self", "sql", "csv"]),
      doc(
        "Where activity history comes from, to learn off-peak windows: self is edgetrain's own record of load and " +
          "API requests.",
      ),
    ),
    "none",
  ),
  history_days: v.optional(positiveInt("Days of history used."), 30),
  min_data_points: v.optional(positiveInt("Observations needed before the windows are trusted."), 200),
  window_hours: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(24), doc("Length of each off-peak window in hours.")),
    3,
  ),
  windows: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(10), doc("How many windows to pick.")),
    3,
  ),
  timezone: v.optional(
    v.pipe(v.string(), doc("IANA zone the hours of the week are counted in; default the machine's.")),
  ),
  weights: v.optional(UsageWeights, {}),
  sources: v.optional(
    v.pipe(
      v.array(UsageSource),
      doc(
        "Several activity sources at once (e.g. players in MariaDB, server load in PostgreSQL): `{ type: self | sql " +
          "| csv, weight (1), weights?, url + query (sql), path + timestamp (csv) }`, each scored by hour of the " +
          "week and combined by its weight; when set, source, sql and csv are not used. A source that cannot be read " +
          "is left out, and that is said.",
      ),
    ),
    [],
  ),
  sql: v.optional(
    v.strictObject({
      url: v.pipe(v.string(), doc("postgres://… or mysql://…; put credentials in ${VARIABLES}.")),
      query: v.pipe(
        v.string(),
        doc("Returns a column `at` and any of players, cpu, memory; $1 is the start of the history."),
      ),
    }),
  ),
  csv: v.optional(v.strictObject({ path: v.string(), timestamp: v.optional(v.string(), "timestamp") })),
});
