import type { Database } from "bun:sqlite";
import type { Profile } from "../config/schema.ts";
import { readSelfUsage } from "./self-usage.ts";
import { EdgetrainError, messageOf } from "../errors.ts";
import type { ResolvedPaths } from "../plugin-api.ts";
import { readCsvUsage, readSqlUsage, type UsagePoint } from "./usage-source.ts";
import { quietestWindows, weeklyActivity, type OffPeakWindow, type WeeklyActivity } from "./windows.ts";

export interface OffPeak {
  activity: WeeklyActivity;
  windows: OffPeakWindow[];
  /** In words, when there are no trusted windows. */
  note?: string;
  learnedAt: number;
}

/** Reads the usage history the profile names and picks the quietest windows of the week. */
export async function learnOffPeak(usage: Profile["usage"], paths: ResolvedPaths, now: number, state?: Database): Promise<OffPeak> {
  const since = now - usage.history_days * 86_400_000;
  let points: UsagePoint[] = [];
  let note: string | undefined;
  try {
    if (usage.source === "self") {
      if (!state) throw new EdgetrainError("state_failed", "usage.source is self, but the state database is not open");
      points = readSelfUsage(state, since);
    } else if (usage.source === "sql") {
      if (!usage.sql) throw new EdgetrainError("profile_invalid", "usage.source is sql but usage.sql { url, query } is missing");
      points = await readSqlUsage(usage.sql, since);
    } else if (usage.source === "csv") {
      if (!usage.csv) throw new EdgetrainError("profile_invalid", "usage.source is csv but usage.csv { path } is missing");
      points = await readCsvUsage(usage.csv.path, paths.data, usage.csv.timestamp, since);
    } else {
      note = "no usage source (usage.source: none): off-peak windows are not learned";
    }
  } catch (error) {
    note = `usage history could not be read: ${messageOf(error)}`;
  }
  const activity = weeklyActivity(points, usage.weights, usage.min_data_points, usage.timezone);
  if (!note && !activity.trusted) note = `only ${activity.points} of the ${usage.min_data_points} observations needed (usage.min_data_points)`;
  return { activity, windows: activity.trusted ? quietestWindows(activity, usage.window_hours, usage.windows) : [], note, learnedAt: now };
}
