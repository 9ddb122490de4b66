import type { Profile } from "../config/schema.ts";
import { redactUrl } from "./usage-source.ts";

export type UsageSourceSpec = Profile["usage"]["sources"][number] & { problem?: string };

/**
 * The profile's usage sources as one list: `usage.sources` when set, else the single-source form
 * (`source` with `sql` or `csv`), which stays valid. `none` gives no source.
 */
export function usageSources(usage: Profile["usage"]): UsageSourceSpec[] {
  if (usage.sources.length > 0) return usage.sources;
  if (usage.source === "none") return [];
  if (usage.source === "sql" && !usage.sql)
    return [missing("usage.source is sql but usage.sql { url, query } is missing")];
  if (usage.source === "csv" && !usage.csv) return [missing("usage.source is csv but usage.csv { path } is missing")];
  return [
    {
      type: usage.source,
      weight: 1,
      ...usage.sql,
      path: usage.csv?.path,
      timestamp: usage.csv?.timestamp ?? "timestamp",
    },
  ];
}

/** `sql postgres://game:***@db/game`, `csv logins.csv`, `self`: never a password. */
export function describeSource(source: UsageSourceSpec): string {
  if (source.type === "sql") return `sql ${redactUrl(source.url ?? "")}`;
  if (source.type === "csv") return `csv ${source.path}`;
  return "self";
}

/** A half-written single source fails when read, as it always did, rather than when the profile loads. */
function missing(problem: string): UsageSourceSpec {
  return { type: "sql", weight: 1, timestamp: "timestamp", problem };
}
