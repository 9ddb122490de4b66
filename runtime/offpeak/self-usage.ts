import type { Database } from "bun:sqlite";
import { type WritePolicy, writeNow } from "../files/disk-space.ts";
import type { UsagePoint } from "./usage-source.ts";

const HOUR = 3_600_000;

/**
 * edgetrain's own record of activity, kept per hour in the state database: load samples from the governor
 * (CPU and memory not caused by edgetrain) and requests to its API. Counted in memory and written once a
 * minute, so the hot path touches no disk. On a full disk the counts wait for the next flush; an hour
 * that ends before space returns is lost, which only makes the learned off-peak windows a little coarser.
 */
export class SelfUsageRecorder {
  private hour = 0;
  private samples = 0;
  private cpu = 0;
  private memory = 0;
  private requests = 0;
  private readonly upsert;

  constructor(
    db: Database,
    private readonly writes: WritePolicy = writeNow,
  ) {
    this.upsert = db.prepare(
      "INSERT INTO usage_hours (hour_start, samples, cpu_sum, memory_sum, requests) VALUES (?, ?, ?, ?, ?) ON " +
        "CONFLICT (hour_start) DO UPDATE SET samples = samples + excluded.samples, cpu_sum = cpu_sum + " +
        "excluded.cpu_sum, memory_sum = memory_sum + excluded.memory_sum, requests = requests + excluded.requests",
    );
  }

  sample(at: number, cpuPercent: number, memoryPercent: number): void {
    this.roll(at);
    this.samples++;
    this.cpu += cpuPercent;
    this.memory += memoryPercent;
  }

  request(at: number): void {
    this.roll(at);
    this.requests++;
  }

  /** Writes what was counted since the last flush. */
  flush(): void {
    if (this.hour === 0 || (this.samples === 0 && this.requests === 0)) return;
    const { hour, samples, cpu, memory, requests } = this;
    if (this.writes.attempt("usage counts", () => void this.upsert.run(hour, samples, cpu, memory, requests)))
      this.reset();
  }

  private roll(at: number): void {
    const hour = Math.floor(at / HOUR) * HOUR;
    if (hour !== this.hour) {
      this.flush();
      this.reset();
      this.hour = hour;
    }
  }

  private reset(): void {
    this.samples = this.cpu = this.memory = this.requests = 0;
  }
}

/** The recorded hours since `since`, one usage point each: requests as activity, mean CPU and memory. */
export function readSelfUsage(db: Database, since: number): UsagePoint[] {
  return db
    .query<{ hour_start: number; samples: number; cpu_sum: number; memory_sum: number; requests: number }, [number]>(
      "SELECT * FROM usage_hours WHERE hour_start >= ? ORDER BY hour_start",
    )
    .all(since)
    .map((row) => ({
      at: row.hour_start + HOUR / 2,
      values: {
        players: row.requests,
        ...(row.samples > 0 ? { cpu: row.cpu_sum / row.samples, memory: row.memory_sum / row.samples } : {}),
      },
    }));
}
