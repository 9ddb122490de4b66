import type { Database } from "bun:sqlite";
import type { Profile } from "../config/schema.ts";
import { EdgetrainError, messageOf } from "../errors.ts";
import type { ResolvedPaths } from "../plugin-api.ts";
import { readSelfUsage } from "./self-usage.ts";
import { readCsvUsage, readSqlUsage, SkippedRows, type UsageHistory } from "./usage-source.ts";
import { describeSource, type UsageSourceSpec, usageSources } from "./usage-sources.ts";
import {
  combineActivity,
  type OffPeakWindow,
  quietestWindows,
  type WeeklyActivity,
  weeklyActivity,
} from "./windows.ts";

export interface OffPeak {
  activity: WeeklyActivity;
  windows: OffPeakWindow[];
  /** In words: why there are no trusted windows, or which sources could not be read. */
  note?: string;
  learnedAt: number;
}

/** Reads the usage history of each source the profile names, combines their scores, and picks the quietest windows. */
export async function learnOffPeak(
  usage: Profile["usage"],
  paths: ResolvedPaths,
  now: number,
  state?: Database,
): Promise<OffPeak> {
  const since = now - usage.history_days * 86_400_000;
  const sources = usageSources(usage);
  if (sources.length === 0) {
    const activity = weeklyActivity([], usage.weights, usage.min_data_points, usage.timezone);
    return {
      activity,
      windows: [],
      note: "no usage source (usage.source: none): off-peak windows are not learned",
      learnedAt: now,
    };
  }
  const read = await Promise.all(
    sources.map(async (source) => {
      try {
        return { source, history: await readSource(source, paths, since, state) };
      } catch (error) {
        return { source, error: messageOf(error) };
      }
    }),
  );
  const failed = read.filter((entry) => entry.error !== undefined);
  const scored = read.flatMap((entry) =>
    entry.history
      ? [
          {
            weight: entry.source.weight,
            activity: weeklyActivity(
              entry.history.points,
              entry.source.weights ?? usage.weights,
              usage.min_data_points,
              usage.timezone,
            ),
          },
        ]
      : [],
  );
  const activity = combineActivity(scored, usage.min_data_points);
  let note: string | undefined;
  // One source keeps the words it always had; with several, each failure names its source.
  if (sources.length === 1 && failed.length === 1) note = `usage history could not be read: ${failed[0]!.error}`;
  else if (failed.length > 0)
    note = failed
      .map((entry) => `usage source ${describeSource(entry.source)} could not be read: ${entry.error}`)
      .join("; ");
  if (!activity.trusted) {
    const few = `only ${activity.points} of the ${usage.min_data_points} observations needed (usage.min_data_points)`;
    note = note && sources.length === 1 ? note : note ? `${few}; ${note}` : few;
  }
  const skips = read.flatMap(({ source, history }) =>
    history?.skipped.count ? [skippedNote(describeSource(source), history.skipped)] : [],
  );
  if (skips.length > 0) note = [note, ...skips].filter(Boolean).join("; ");
  return {
    activity,
    windows: activity.trusted ? quietestWindows(activity, usage.window_hours, usage.windows) : [],
    note,
    learnedAt: now,
  };
}

/** `csv usage.csv: 2 unreadable row(s) left out: usage.csv line 482: …`, the first few named. */
function skippedNote(source: string, skipped: SkippedRows): string {
  const more = skipped.count > skipped.first.length ? "; …" : "";
  return `${source}: ${skipped.count} unreadable row(s) left out: ${skipped.first.join("; ")}${more}`;
}

async function readSource(
  source: UsageSourceSpec,
  paths: ResolvedPaths,
  since: number,
  state?: Database,
): Promise<UsageHistory> {
  if (source.problem) throw new EdgetrainError("profile_invalid", source.problem);
  if (source.type === "self") {
    if (!state)
      throw new EdgetrainError("state_failed", "a self usage source needs the state database, which is not open");
    return { points: readSelfUsage(state, since), skipped: new SkippedRows() };
  }
  if (source.type === "sql") return readSqlUsage({ url: source.url!, query: source.query! }, since);
  return readCsvUsage(source.path!, paths, source.timestamp, since);
}
