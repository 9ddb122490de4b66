import { basename, join } from "node:path";
import type { Job } from "../config/schema.ts";
import { readCsvTable } from "../data/csv-table.ts";
import { csvFilesIn } from "../data/load-training-data.ts";
import { sessionKeys } from "../data/sessions.ts";
import { naturalOrder } from "../natural-order.ts";

/**
 * The keys a job trains one model each for: the sessions source's subfolders, the values of a rows
 * source's key column, or its file names. A job without keys has the single key `undefined`.
 */
export async function jobKeys(job: Job, dataRoot: string): Promise<Array<string | undefined>> {
  const data = job.data;
  if (!data) return [undefined];
  if (data.source === "sessions") return sessionKeys(join(dataRoot, data.path));
  if (data.key_from === "file") return csvFilesIn(join(dataRoot, data.path)).map((file) => basename(file, ".csv"));
  if (data.key_column) {
    const table = await readCsvTable(csvFilesIn(join(dataRoot, data.path)), {
      label: data.label,
      onBadCell: "skip-row",
      keep: [data.key_column],
      features: [],
    });
    return [...new Set(table.kept[data.key_column])].sort(naturalOrder);
  }
  return [undefined];
}
