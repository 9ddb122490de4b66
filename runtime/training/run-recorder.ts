import { join } from "node:path";
import { type ScoreSummary, scoreMetrics } from "../batch-scoring/score-summary.ts";
import { type CancelReason, EdgetrainError } from "../errors.ts";
import { writeAtomicallyAsync } from "../files/write-atomically.ts";
import { processTable } from "../os/process-identity.ts";
import type { EventSink, ProgressReporter, TrainResult } from "../plugin-api.ts";
import type { StateDatabase } from "../state/database.ts";
import { forgetRunProcesses, runProcessesOf } from "../state/run-processes.ts";
import { processesLeft } from "./leftover-trainers.ts";
import type { RunDetails, RunIdentity } from "./run-details.ts";

const WRITE_EVERY_MS = 1000;

/**
 * Records one run: its row in `runs`, kept up to date from the strategy's events and progress. On a full
 * disk, progress is dropped (the next update carries it) and the run's outcome waits for space.
 */
/** Lines of a trainer's log the run record keeps while it trains. */
const LIVE_LOG_LINES = 200;

export class RunRecorder {
  readonly id: string;
  private readonly details: RunDetails = { checkpoints: [], log_tail: [], stalls: 0 };
  private lastWrite = 0;
  private trailing?: ReturnType<typeof setTimeout>;
  private finished = false;
  private fileContent?: string;
  private fileWriter?: Promise<void>;

  /** Sortable and unique: `20261122-231500-3f9a2c`. */
  static newId(now = Date.now()): string {
    const time = new Date(now).toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
    return `${time}-${crypto.randomUUID().slice(0, 6)}`;
  }

  constructor(
    private readonly state: Pick<StateDatabase, "db" | "writes">,
    private readonly run: RunIdentity,
    now = Date.now(),
  ) {
    this.id = run.id;
    state.db
      .query(
        "INSERT INTO runs (id, job, key, strategy, trigger, status, created_at, started_at, run_dir, details) VALUES " +
          "(?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)",
      )
      .run(
        this.id,
        run.job,
        run.key ?? null,
        run.strategy,
        run.trigger,
        now,
        now,
        run.runDir,
        JSON.stringify(this.details),
      );
  }

  /** Events of the strategy, recorded, then passed on. */
  events(next?: EventSink): EventSink {
    return {
      emit: (type, data) => {
        if (type === "run.heartbeat") {
          this.details.last_heartbeat = { at: new Date().toISOString(), ...data };
          this.flush(false);
        } else if (type === "run.checkpoint") {
          this.details.checkpoints.push(data);
          this.flush(true);
        } else if (type === "run.ramp" && typeof data.decision === "string") {
          this.details.ramp = { ...data, decision: data.decision };
          this.flush(true);
        } else if (type === "run.log" && typeof data.line === "string") {
          // The tail the record shows while the run trains; the workers' own tails replace it at the end.
          this.details.log_tail.push(data.line);
          if (this.details.log_tail.length > LIVE_LOG_LINES) this.details.log_tail.shift();
          this.flush(false);
        } else if (type === "run.stalled") {
          this.details.stalls++;
          this.flush(true, "stalled");
        }
        next?.emit(type, { run: this.id, ...data });
      },
    };
  }

  /** Progress is recorded, passed on, and published as `run.progress` (at most every 200 ms, and the last step). */
  progress(next?: ProgressReporter, events?: EventSink): ProgressReporter {
    let published = 0;
    return {
      update: (done, total, message) => {
        this.details.progress = { done, total, message };
        this.flush(done === total);
        next?.update(done, total, message);
        const now = Date.now();
        if (events && (done === total || now - published >= 200)) {
          published = now;
          events.emit("run.progress", { run: this.id, job: this.run.job, key: this.run.key, done, total, message });
        }
      },
    };
  }

  /** Paused by the governor or a person, or resumed: the runs table and `run.json` say so at once. */
  paused(paused: boolean): void {
    this.flush(true, paused ? "paused" : "running");
  }

  succeeded(result: TrainResult): void {
    const metadata = result.metadata ?? {};
    this.details.artifact = result.artifact;
    this.details.data = metadata.data;
    this.takeWorkers(metadata.workers);
    this.finish("succeeded", result.metrics);
  }

  /** A score run's end: its summary is its record, its figures its metrics. */
  scored(summary: ScoreSummary): void {
    this.details.score = summary;
    this.finish("succeeded", scoreMetrics(summary));
  }

  /** After the run succeeded: its model's version and deploy outcome join the record. */
  deployed(deployment: unknown): void {
    this.details.deployment = deployment;
    const details = JSON.stringify(this.details);
    this.state.writes.retry(
      `the record of run ${this.id}`,
      () => void this.state.db.query("UPDATE runs SET details = ? WHERE id = ?").run(details, this.id),
    );
    this.writeFile("succeeded");
  }

  failed(error: unknown, cancelled: boolean): void {
    this.takeWorkers((error as { reports?: unknown }).reports);
    if (error instanceof EdgetrainError) {
      this.details.error_code = error.code;
      if (cancelled && typeof error.details.reason === "string")
        this.details.cancel_reason = error.details.reason as CancelReason;
    }
    this.finish(cancelled ? "cancelled" : "failed", undefined, error instanceof Error ? error.message : String(error));
  }

  private takeWorkers(workers: unknown): void {
    if (!Array.isArray(workers)) return;
    this.details.workers = workers;
    const tails = workers.flatMap((w: { id?: number; log_tail?: string[]; logTail?: string[] }) =>
      (w.log_tail ?? w.logTail ?? []).map((line) => (workers.length > 1 ? `[${w.id}] ${line}` : line)),
    );
    this.details.log_tail = tails.slice(-200);
    const last = workers
      .map((w: { lastHeartbeat?: Record<string, unknown> }) => w.lastHeartbeat)
      .filter(Boolean)
      .at(-1);
    if (last) this.details.last_heartbeat = last;
  }

  private finish(status: "succeeded" | "failed" | "cancelled", metrics?: Record<string, number>, error?: string): void {
    clearTimeout(this.trailing);
    this.finished = true;
    const values = [
      status,
      Date.now(),
      status === "succeeded" ? 1 : this.fraction(),
      metrics ? JSON.stringify(metrics) : null,
      error ?? null,
      JSON.stringify(this.details),
      this.id,
    ] as const;
    this.state.writes.retry(
      `the record of run ${this.id}`,
      () =>
        void this.state.db
          .query(
            "UPDATE runs SET status = ?, ended_at = ?, progress = ?, metrics = ?, error = ?, details = ? WHERE id = ?",
          )
          .run(...values),
    );
    this.writeFile(status);
    this.forgetEndedProcesses();
  }

  /** What its strategy stopped needs no stopping at the next start; anything it left does. */
  private forgetEndedProcesses(): void {
    let started: ReturnType<typeof runProcessesOf>;
    try {
      started = runProcessesOf(this.state.db, this.id);
    } catch {
      // The state closed under the run (its home was deleted): the next start finds the records it kept.
      return;
    }
    if (started.length === 0) return;
    const table = processTable();
    const ended = started.filter((recorded) => processesLeft(recorded, table).length === 0);
    forgetRunProcesses(
      this.state,
      this.id,
      ended.map(({ pid }) => pid),
    );
  }

  private fraction(): number | null {
    const p = this.details.progress;
    return p && p.total > 0 ? p.done / p.total : null;
  }

  private flush(force: boolean, status?: string): void {
    if (this.finished) return;
    const now = Date.now();
    if (!force && now - this.lastWrite < WRITE_EVERY_MS) {
      // A change held back is written when the interval ends, not only with the next one (a trainer's last
      // log line before a long silence).
      this.trailing ??= setTimeout(
        () => {
          this.trailing = undefined;
          this.flush(false);
        },
        WRITE_EVERY_MS - (now - this.lastWrite),
      );
      this.trailing.unref?.();
      return;
    }
    clearTimeout(this.trailing);
    this.trailing = undefined;
    this.lastWrite = now;
    this.state.writes.attempt(
      `progress of run ${this.id}`,
      () =>
        void this.state.db
          .query(`UPDATE runs SET progress = ?, message = ?, details = ?${status ? ", status = ?" : ""} WHERE id = ?`)
          .run(
            ...([
              this.fraction(),
              this.details.progress?.message ?? null,
              JSON.stringify(this.details),
              ...(status ? [status] : []),
              this.id,
            ] as [number | null, string | null, string, ...string[]]),
          ),
    );
    this.writeFile(status ?? "running");
  }

  /** Resolves once `run.json` holds the latest record. */
  async written(): Promise<void> {
    while (this.fileWriter) await this.fileWriter;
  }

  /**
   * `run.json` is a copy for people and tools; the database is the record. It is written off the thread that
   * answers predictions (no fsync, temp + rename), only the latest content, and a folder already gone
   * (a cancelled one-shot fit) is not an error.
   */
  private writeFile(status: string): void {
    this.fileContent = JSON.stringify({ ...this.run, status, ...this.details }, null, 2);
    this.fileWriter ??= this.drainFile().finally(() => (this.fileWriter = undefined));
  }

  private async drainFile(): Promise<void> {
    const file = join(this.run.runDir, "run.json");
    while (this.fileContent !== undefined) {
      const content = this.fileContent;
      this.fileContent = undefined;
      await writeAtomicallyAsync(file, content, { durable: false }).catch(() => undefined);
    }
  }
}
