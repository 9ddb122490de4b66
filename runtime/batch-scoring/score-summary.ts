import type { BatchPredictions, ScoredFile } from "../plugin-api.ts";

/** The spread of a regression's predictions. */
export interface ValueStatistics {
  count: number;
  mean: number;
  std: number;
  min: number;
  max: number;
}

/**
 * What a score run predicted, for its run record, `edgetrain runs` and the fleet's drift detection: how many
 * rows, and the class histogram or the values' statistics.
 */
export type ScoreSummary = {
  model: string;
  version: number;
  rows: number;
  files: ScoredFile[];
  /** Classification: rows per predicted class. */
  classes?: Record<string, number>;
  values?: ValueStatistics;
  /** Rows left out under `on_bad_cell: skip-row`, and the first few of them with file, line and column. */
  skipped: number;
  skipped_examples: string[];
  seconds: number;
  rows_per_s: number;
};

const SKIPPED_EXAMPLES = 20;

/** The figures of a score run's record (`edgetrain runs`); the histogram and statistics stay in its details. */
export function scoreMetrics(summary: ScoreSummary): Record<string, number> {
  return {
    rows: summary.rows,
    files: summary.files.length,
    rows_per_s: summary.rows_per_s,
    version: summary.version,
    skipped: summary.skipped,
  };
}

/** Counts every answer as it passes; the sums are Welford's, which stay exact over millions of rows. */
export class ScoreTally {
  private rows = 0;
  private readonly classes = new Map<string, number>();
  private count = 0;
  private mean = 0;
  private m2 = 0;
  private min = Infinity;
  private max = -Infinity;
  private skipped = 0;
  private readonly examples: string[] = [];

  add(predictions: BatchPredictions): void {
    this.rows += predictions.rows;
    const { labels, values } = predictions;
    if (labels) for (const label of labels) this.classes.set(label, (this.classes.get(label) ?? 0) + 1);
    if (values) {
      for (let i = 0; i < predictions.rows; i++) {
        const value = values[i]!;
        this.count++;
        const delta = value - this.mean;
        this.mean += delta / this.count;
        this.m2 += delta * (value - this.mean);
        if (value < this.min) this.min = value;
        if (value > this.max) this.max = value;
      }
    }
  }

  skip(problems: readonly string[]): void {
    this.skipped += problems.length;
    for (const problem of problems) if (this.examples.length < SKIPPED_EXAMPLES) this.examples.push(problem);
  }

  summary(model: { name: string; version: number }, files: ScoredFile[], seconds: number): ScoreSummary {
    const rate = seconds > 0 ? Math.round(this.rows / seconds) : 0;
    const { rows, skipped, examples } = this;
    const summary: ScoreSummary = {
      model: model.name,
      version: model.version,
      rows,
      files,
      skipped,
      skipped_examples: examples,
      seconds,
      rows_per_s: rate,
    };
    if (this.classes.size > 0)
      summary.classes = Object.fromEntries([...this.classes].sort(([a], [b]) => a.localeCompare(b)));
    if (this.count > 0)
      summary.values = {
        count: this.count,
        mean: this.mean,
        std: Math.sqrt(this.m2 / this.count),
        min: this.min,
        max: this.max,
      };
    return summary;
  }
}
