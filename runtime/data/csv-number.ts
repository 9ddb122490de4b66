import { COMMA, CR, LF } from "./csv-bytes.ts";

const SPACE = 32;
const TAB = 9;
const PLUS = 43;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const NINE = 57;
const LOWER_E = 101;
const UPPER_E = 69;
const MAX_EXACT = 2 ** 53 - 1;
// Every power of ten up to 1e22 is exact in a double.
const POW10 = Float64Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/**
 * Doubles of this size or more round to ±Infinity in a Float32Array: float32's largest value plus half its last
 * step. Below it they round to a finite float, so `3.4028235e38` (how float32's largest value prints) is kept.
 */
const FLOAT32_OVERFLOW = 2 ** 128 - 2 ** 103;

/** Whether a cell's number is stored as a finite float32 (false for NaN and ±Infinity too). */
export function fitsFloat32(value: number): boolean {
  return Math.abs(value) < FLOAT32_OVERFLOW;
}

/** Where the last number accepted by `plainNumber` ended: at a comma, CR or LF. */
export const numberEnd = { pos: 0 };

/**
 * Reads a plain decimal cell (`-12.5`, `3e-4`, spaces or tabs around it) at `pos`, without making a string.
 * Returns NaN for anything else (empty, quoted, hex, `NaN`, more than 15–16 digits, exponents past 1e±22):
 * the caller then converts the cell's text with `Number()`. The result equals `Number(text)` because the
 * digits and the power of ten are both exact doubles, so the one multiplication or division rounds once
 * (Clinger's fast path). The byte after the cell must be readable: a line always ends in LF here.
 * Its largest result, (2^53 - 1) * 1e22, fits a float32, so the hot loop needs no range check.
 */
export function plainNumber(buf: Uint8Array, pos: number): number {
  let c = buf[pos]!;
  while (c === SPACE || c === TAB) c = buf[++pos]!;
  let negative = false;
  if (c === MINUS) {
    negative = true;
    c = buf[++pos]!;
  } else if (c === PLUS) c = buf[++pos]!;
  const first = pos;
  let mantissa = 0;
  while (c >= ZERO && c <= NINE) {
    mantissa = mantissa * 10 + (c - ZERO);
    c = buf[++pos]!;
  }
  let scale = 0;
  if (c === DOT) {
    const dot = ++pos;
    c = buf[pos]!;
    while (c >= ZERO && c <= NINE) {
      mantissa = mantissa * 10 + (c - ZERO);
      c = buf[++pos]!;
    }
    scale = dot - pos;
    if (pos === first + 1) return NaN; // "." alone
  } else if (pos === first) return NaN;
  if (c === LOWER_E || c === UPPER_E) {
    scale += exponentAt(buf, pos + 1);
    if (scale !== scale) return NaN;
    pos = numberEnd.pos;
    c = buf[pos]!;
  }
  while (c === SPACE || c === TAB) c = buf[++pos]!;
  if (c !== COMMA && c !== LF && c !== CR) return NaN;
  // Once the true mantissa passes 2^53 the computed one does too, so this also proves every step was exact.
  if (mantissa > MAX_EXACT) return NaN;
  let value: number;
  if (scale === 0 || mantissa === 0) value = mantissa;
  else if (scale < 0 && scale >= -22) value = mantissa / POW10[-scale]!;
  else if (scale > 0 && scale <= 22) value = mantissa * POW10[scale]!;
  else return NaN;
  numberEnd.pos = pos;
  return negative ? -value : value;
}

/** The exponent whose sign or first digit is at `pos` (its end goes to `numberEnd`), or NaN without digits. */
function exponentAt(buf: Uint8Array, pos: number): number {
  let c = buf[pos]!;
  let negative = false;
  if (c === MINUS) {
    negative = true;
    c = buf[++pos]!;
  } else if (c === PLUS) c = buf[++pos]!;
  const first = pos;
  let exponent = 0;
  while (c >= ZERO && c <= NINE) {
    exponent = exponent * 10 + (c - ZERO);
    c = buf[++pos]!;
  }
  if (pos === first) return NaN;
  numberEnd.pos = pos;
  return negative ? -exponent : exponent;
}

/** The current reader's rule for a cell's text: blank is empty, and anything `Number()` makes finite is a value. */
export function numberOfText(text: string): number {
  return text.trim() === "" ? NaN : Number(text);
}
