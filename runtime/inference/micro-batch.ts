/** Runs `rows` rows of `x` (row-major, `width` features each) in one call; one answer per row. */
export type BatchRunner<T> = (x: Float32Array, rows: number) => Promise<T[]>;

interface Part<T> {
  x: Float32Array;
  rows: number;
  resolve: (outputs: T[]) => void;
  reject: (error: unknown) => void;
}

interface Batch<T> {
  parts: Part<T>[];
  rows: number;
}

/**
 * Joins the predictions asked of one model within one turn of the event loop into a single ONNX Runtime
 * call. Each call costs about 15 µs and, through Bun's N-API, about 13 KB of collector garbage whatever
 * its rows: under load, one call per request made the collector's pauses of the serving thread about
 * 1.5× as long. A lone request waits one more turn of the event loop: nothing measurable at one connection.
 */
export class MicroBatcher<T> {
  private open: Batch<T> | undefined;

  constructor(
    private readonly width: number,
    /** A batch closes at this many rows; a request this large runs alone. 1: every request runs alone. */
    private readonly maxRows: number,
    private readonly runBatch: BatchRunner<T>,
  ) {}

  run(x: Float32Array, rows: number): Promise<T[]> {
    if (rows >= this.maxRows) return this.runBatch(x, rows);
    return new Promise((resolve, reject) => {
      let batch = this.open;
      if (!batch || batch.rows + rows > this.maxRows) {
        const fresh: Batch<T> = { parts: [], rows: 0 };
        batch = this.open = fresh;
        setImmediate(() => void this.flush(fresh));
      }
      batch.parts.push({ x, rows, resolve, reject });
      batch.rows += rows;
    });
  }

  private async flush(batch: Batch<T>): Promise<void> {
    if (this.open === batch) this.open = undefined;
    const { parts } = batch;
    if (parts.length === 1) return settle(parts[0]!, this.runBatch(parts[0]!.x, parts[0]!.rows));
    const x = new Float32Array(batch.rows * this.width);
    let offset = 0;
    for (const part of parts) {
      x.set(part.x, offset);
      offset += part.x.length;
    }
    let outputs: T[];
    try {
      outputs = await this.runBatch(x, batch.rows);
    } catch {
      // One request's failure must be its own: each runs alone, and gets its own answer or error.
      for (const part of parts) void settle(part, this.runBatch(part.x, part.rows));
      return;
    }
    let row = 0;
    for (const part of parts) {
      part.resolve(outputs.slice(row, row + part.rows));
      row += part.rows;
    }
  }
}

function settle<T>(part: Part<T>, outputs: Promise<T[]>): Promise<void> {
  return outputs.then(part.resolve, part.reject);
}
