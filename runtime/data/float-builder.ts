/**
 * Row-major float32 rows appended while a CSV streams in, in one buffer sized from an estimate of the row
 * count. Pages of a large typed array that are never written are never made resident, so an estimate that is
 * too high costs address space, not memory; one that is too low costs a copy, which doubling would make
 * the rule rather than the exception.
 */
export class FloatBuilder {
  data: Float32Array;
  rows = 0;
  /** How often the rows were copied into a bigger buffer. */
  copies = 0;

  constructor(
    readonly width: number,
    capacityRows = 1024,
  ) {
    this.data = new Float32Array(Math.max(1, capacityRows) * width);
  }

  get capacityRows(): number {
    return this.width === 0 ? Infinity : this.data.length / this.width;
  }

  /** Makes room for `rows` rows in all; call before writing a row past the capacity. */
  reserve(rows: number): void {
    if (rows <= this.capacityRows) return;
    const bigger = new Float32Array(Math.ceil(rows) * this.width);
    bigger.set(this.data.subarray(0, this.rows * this.width));
    this.data = bigger;
    this.copies++;
  }

  /** The rows written, as a view: a copy would double the peak for a moment. */
  finish(): Float32Array {
    return this.data.subarray(0, this.rows * this.width);
  }
}
