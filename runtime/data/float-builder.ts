/** A Float32Array that grows by doubling: rows are appended while a CSV streams in. */
export class FloatBuilder {
  private buffer = new Float32Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.buffer.length) {
      const bigger = new Float32Array(this.buffer.length * 2);
      bigger.set(this.buffer);
      this.buffer = bigger;
    }
    this.buffer[this.length++] = value;
  }

  /** Drops the last `count` values (a row that turned out to be bad half-way). */
  truncate(count: number): void {
    this.length -= count;
  }

  finish(): Float32Array {
    return this.buffer.slice(0, this.length);
  }
}
