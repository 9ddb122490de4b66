import * as v from "valibot";
import { Duration } from "../config/duration.ts";

const doc = v.description;

const Columns = {
  label: v.optional(v.pipe(v.string(), doc("Label column.")), "label"),
  features: v.optional(
    v.pipe(v.array(v.string()), doc("Use exactly these feature columns (default: every numeric column).")),
  ),
  exclude: v.optional(v.pipe(v.array(v.string()), doc("Leave these columns out of the features."))),
  on_bad_cell: v.optional(
    v.pipe(
      v.picklist(["skip-row", "fail"]),
      doc("An empty or non-numeric cell in a numeric column: skip its row, or fail the run."),
    ),
    "fail",
  ),
  debounce: v.optional(Duration, "3s"),
};

/** `sessions`: one subfolder per key (`player_7/`), sessions ordered by the number in their file name. */
export const SessionsSource = v.strictObject({
  source: v.literal("sessions"),
  path: v.pipe(v.string(), doc("Folder of per-key subfolders, relative to paths.data.")),
  pattern: v.optional(v.pipe(v.string(), doc("Regex whose first group is the session number.")), "^TR(\\d+)_"),
  sessions_to_use: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), doc("Window: the latest N sessions.")), 3),
  holdout: v.optional(
    v.pipe(
      v.picklist(["last-session", "none"]),
      doc("last-session: the newest session of the window is the test set."),
    ),
    "last-session",
  ),
  ...Columns,
});

/** `rows`: CSV files (or one file), filtered to a time window, keyed by a column or by file name. */
export const RowsSource = v.strictObject({
  source: v.literal("rows"),
  path: v.pipe(v.string(), doc("A CSV file or a folder of them, relative to paths.data.")),
  timestamp: v.optional(v.pipe(v.string(), doc("Timestamp column (ISO 8601 or epoch seconds/milliseconds)."))),
  last: v.optional(Duration),
  key_column: v.optional(v.pipe(v.string(), doc("One model per value of this column."))),
  key_from: v.optional(v.pipe(v.literal("file"), doc("One model per file (its name without .csv)."))),
  test_path: v.optional(
    v.pipe(
      v.string(),
      doc(
        "A CSV file or folder held out for evaluation, with the same key and window rules; otherwise the strategy's " +
          "test_fraction.",
      ),
    ),
  ),
  ...Columns,
});

export const DataSourceSpec = v.variant(
  "source",
  [SessionsSource, RowsSource],
  "a data source with source: sessions or rows",
);
export type DataSourceSpec = v.InferOutput<typeof DataSourceSpec>;
export type SessionsSpec = v.InferOutput<typeof SessionsSource>;
export type RowsSpec = v.InferOutput<typeof RowsSource>;
