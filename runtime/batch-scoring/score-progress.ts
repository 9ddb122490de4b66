import type { Logger, ProgressReporter } from "../plugin-api.ts";

/** How often a long score run says in the log how far it is. */
const LOG_EVERY_MS = 10_000;

/**
 * Progress of a score run over its files: bytes read out of all of them (the one measure known ahead of
 * the rows), with the rows done and their rate as the message, and a log line now and then.
 */
export class ScoreProgress {
  private readonly total: number;
  private readonly before: number[];
  private rows = 0;
  private fileRows = 0;
  private readonly started = performance.now();
  private loggedAt = performance.now();

  constructor(
    private readonly sizes: number[],
    private readonly reporter: ProgressReporter,
    private readonly logger: Logger,
  ) {
    this.total = sizes.reduce((a, b) => a + b, 0);
    this.before = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
  }

  /** A batch of file `index` was read: `bytesRead` of that file so far, `rows` more rows. */
  advance(index: number, name: string, bytesRead: number, rows: number): void {
    this.rows += rows;
    this.fileRows += rows;
    const rate = this.rate();
    this.reporter.update(this.before[index]! + bytesRead, this.total, `${this.rows} rows, ${rate} rows/s`);
    const now = performance.now();
    if (now - this.loggedAt >= LOG_EVERY_MS) {
      this.loggedAt = now;
      this.logger.info("scoring", {
        file: name,
        rows: this.rows,
        rows_per_s: rate,
        done_percent: Math.round(((this.before[index]! + bytesRead) / Math.max(1, this.total)) * 100),
      });
    }
  }

  fileDone(index: number, name: string): void {
    this.reporter.update(
      this.before[index]! + this.sizes[index]!,
      this.total,
      `${this.rows} rows, ${this.rate()} rows/s`,
    );
    this.logger.info("file read", { file: name, rows: this.fileRows, rows_per_s: this.rate() });
    this.fileRows = 0;
  }

  private rate(): number {
    const seconds = (performance.now() - this.started) / 1000;
    return seconds > 0 ? Math.round(this.rows / seconds) : 0;
  }
}
