const encoder = new TextEncoder();

const ZERO = 48;
const MINUS = 45;
const DOT = 46;

/**
 * UTF-8 text appended into one buffer that is reused from batch to batch, growing when a batch needs more:
 * numbers go in as digits and fixed texts as bytes encoded once, so a row makes no string of its own.
 */
export class RowBytes {
  private buf = new Uint8Array(1 << 20);
  private pos = 0;

  static encode(text: string): Uint8Array {
    return encoder.encode(text);
  }

  reset(): void {
    this.pos = 0;
  }

  /** The bytes written since reset(); overwritten by the next batch. */
  view(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  byte(value: number): void {
    this.room(1);
    this.buf[this.pos++] = value;
  }

  bytes(bytes: Uint8Array): void {
    this.room(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Text known to be ASCII (numbers as String() writes them). */
  ascii(text: string): void {
    this.room(text.length);
    for (let i = 0; i < text.length; i++) this.buf[this.pos++] = text.charCodeAt(i);
  }

  /** Any text, as UTF-8. */
  text(text: string): void {
    this.room(text.length * 3);
    this.pos += encoder.encodeInto(text, this.buf.subarray(this.pos)).written;
  }

  /** A non-negative integer's digits. */
  uint(value: number): void {
    if (value < 10) this.byte(ZERO + value);
    else this.ascii(String(value));
  }

  /** A value rounded to six decimals without trailing zeros (`0.25`, `1`), as /v1/predict gives probabilities. */
  fixed6(value: number | undefined): void {
    if (value === undefined || !Number.isFinite(value)) return;
    let micros = Math.round(value * 1e6);
    if (micros < 0) {
      this.byte(MINUS);
      micros = -micros;
    }
    const whole = Math.floor(micros / 1e6);
    let fraction = micros - whole * 1e6;
    this.uint(whole);
    if (fraction === 0) return;
    this.room(7);
    this.buf[this.pos++] = DOT;
    let digits = 6;
    while (fraction % 10 === 0) {
      fraction /= 10;
      digits--;
    }
    for (let d = digits - 1; d >= 0; d--) {
      this.buf[this.pos + d] = ZERO + (fraction % 10);
      fraction = Math.floor(fraction / 10);
    }
    this.pos += digits;
  }

  private room(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.pos + bytes));
    bigger.set(this.buf.subarray(0, this.pos));
    this.buf = bigger;
  }
}
