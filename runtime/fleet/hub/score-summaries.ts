import type { Database } from "bun:sqlite";
import type { ScoreReport } from "../protocol.ts";

/** Summaries kept per device and model: enough to compare a device's recent runs with the fleet's. */
export const SCORE_SUMMARIES_KEPT = 50;

type ValueStatistics = NonNullable<ScoreReport["values"]>;

/** One score run of one device, as the hub keeps it. */
export interface ScoreSummaryRow {
  report: string;
  run: string;
  job: string;
  key: string | null;
  /** The hub's number for the version that scored; null for one trained or imported on the device. */
  version: number | null;
  /** The device's own number for it. */
  local_version: number;
  at: number;
  received_at: number;
  rows: number;
  files: number;
  skipped: number;
  classes: Record<string, number> | null;
  other_rows: number | null;
  values: ValueStatistics | null;
}

/** A version's figures over every kept summary of every device: the fleet's baseline for drift. */
export interface VersionScores {
  version: number;
  devices: number;
  runs: number;
  rows: number;
  skipped: number;
  classes: Record<string, number> | null;
  other_rows: number | null;
  values: ValueStatistics | null;
}

export interface ModelScores {
  model: string;
  devices: Array<{ device: string; summaries: ScoreSummaryRow[] }>;
  versions: VersionScores[];
}

interface Stored {
  report: string;
  device: string;
  version: number | null;
  local_version: number;
  at: number;
  received_at: number;
  data: string;
}

/**
 * The score summaries devices report (`score` reports), the latest SCORE_SUMMARIES_KEPT per device and
 * model, in the registry's database.
 */
export class ScoreSummaries {
  constructor(private readonly db: Database) {}

  /**
   * Call inside the transaction that accepts the report, so that a report sent twice is kept once. Kept under
   * the hub's number for the version that scored: devices number the same file differently. A device older
   * than `fleet_version` sends its own number alone, taken for the hub's as its heartbeats are.
   */
  record(report: ScoreReport, receivedAt: number): void {
    const { kind: _, id, device, at, model, version, fleet_version, ...figures } = report;
    this.db
      .query(
        `INSERT INTO score_summaries (report, device, model, version, local_version, at, received_at, data)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        device,
        model,
        fleet_version === undefined ? version : fleet_version,
        version,
        Date.parse(at),
        receivedAt,
        JSON.stringify(figures),
      );
    this.db
      .query(
        `DELETE FROM score_summaries WHERE device = ?1 AND model = ?2 AND report NOT IN (
           SELECT report FROM score_summaries WHERE device = ?1 AND model = ?2
           ORDER BY at DESC, received_at DESC LIMIT ?3)`,
      )
      .run(device, model, SCORE_SUMMARIES_KEPT);
  }

  /**
   * Per device its latest `limit` summaries, newest first; per version of the hub the fleet-wide figures. A
   * version trained or imported on a device is no version of the hub's: its summaries are the device's alone.
   */
  ofModel(model: string, options: { version?: number; limit: number }): ModelScores {
    const rows = this.db
      .query<Stored, [string, number | null]>(
        `SELECT report, device, version, coalesce(local_version, version) AS local_version, at, received_at, data
         FROM score_summaries WHERE model = ?1 AND (?2 IS NULL OR version = ?2)
         ORDER BY device, at DESC, received_at DESC`,
      )
      .all(model, options.version ?? null)
      .map(summaryOf);
    const byDevice = new Map<string, ScoreSummaryRow[]>();
    const byVersion = new Map<number, Array<ScoreSummaryRow & { device: string }>>();
    for (const row of rows) {
      const { device, ...summary } = row;
      const latest = byDevice.get(device) ?? [];
      if (latest.length < options.limit) latest.push(summary);
      byDevice.set(device, latest);
      if (row.version === null) continue;
      const ofVersion = byVersion.get(row.version) ?? [];
      ofVersion.push(row);
      byVersion.set(row.version, ofVersion);
    }
    return {
      model,
      devices: [...byDevice].map(([device, summaries]) => ({ device, summaries })),
      versions: [...byVersion].sort(([a], [b]) => a - b).map(([version, summaries]) => pooled(version, summaries)),
    };
  }
}

function summaryOf(row: Stored): ScoreSummaryRow & { device: string } {
  const figures = JSON.parse(row.data) as Omit<
    ScoreReport,
    "kind" | "id" | "device" | "at" | "model" | "version" | "fleet_version"
  >;
  return {
    device: row.device,
    report: row.report,
    run: figures.run,
    job: figures.job,
    key: figures.key ?? null,
    version: row.version,
    local_version: row.local_version,
    at: row.at,
    received_at: row.received_at,
    rows: figures.rows,
    files: figures.files,
    skipped: figures.skipped,
    classes: figures.classes ?? null,
    other_rows: figures.other_rows ?? null,
    values: figures.values ?? null,
  };
}

/** Histograms add up; statistics combine as if counted at once. */
function pooled(version: number, summaries: Array<ScoreSummaryRow & { device: string }>): VersionScores {
  let classes: Record<string, number> | null = null;
  let otherRows: number | null = null;
  let values: ValueStatistics | null = null;
  for (const summary of summaries) {
    if (summary.classes) {
      classes ??= {};
      for (const [label, count] of Object.entries(summary.classes)) classes[label] = (classes[label] ?? 0) + count;
    }
    if (summary.other_rows !== null) otherRows = (otherRows ?? 0) + summary.other_rows;
    const next = summary.values;
    if (next && next.count > 0) values = values ? combined(values, next) : next;
  }
  return {
    version,
    devices: new Set(summaries.map((summary) => summary.device)).size,
    runs: summaries.length,
    rows: summaries.reduce((sum, summary) => sum + summary.rows, 0),
    skipped: summaries.reduce((sum, summary) => sum + summary.skipped, 0),
    classes: classes && Object.fromEntries(Object.entries(classes).sort(([a], [b]) => a.localeCompare(b))),
    other_rows: otherRows,
    values,
  };
}

/** Chan's parallel form of Welford's sums, which the devices count with. */
function combined(a: ValueStatistics, b: ValueStatistics): ValueStatistics {
  const count = a.count + b.count;
  const delta = b.mean - a.mean;
  const m2 = a.std ** 2 * a.count + b.std ** 2 * b.count + (delta ** 2 * a.count * b.count) / count;
  return {
    count,
    mean: a.mean + (delta * b.count) / count,
    std: Math.sqrt(m2 / count),
    min: Math.min(a.min, b.min),
    max: Math.max(a.max, b.max),
  };
}
