import { decodeText } from "./csv-bytes.ts";

const SLOTS = 1024;
const MAX_ENTRIES = SLOTS / 4;

interface Entry {
  hash: number;
  bytes: Uint8Array;
  /** The cell as written. */
  raw: string;
  /** Trimmed, as labels are kept. */
  trimmed: string;
}

/**
 * Turns label cells into strings, one string per distinct label: a classification file repeats a handful of
 * classes millions of times, and a string per row would cost more memory than the row's features. Distinct
 * labels past a few hundred (a regression target) are decoded one by one and not kept.
 */
export class LabelInterner {
  private readonly slots: Array<Entry | undefined> = new Array(SLOTS).fill(undefined);
  private entries = 0;
  private readonly spare: Entry = { hash: 0, bytes: new Uint8Array(0), raw: "", trimmed: "" };

  /** The label in `buf[start, end)`; the entry is shared, so read it before the next call. */
  intern(buf: Uint8Array, start: number, end: number): Entry {
    let hash = end - start;
    for (let i = start; i < end; i++) hash = (Math.imul(hash, 31) + buf[i]!) | 0;
    let slot = hash & (SLOTS - 1);
    for (;;) {
      const entry = this.slots[slot];
      if (entry === undefined) break;
      if (entry.hash === hash && sameBytes(entry.bytes, buf, start, end)) return entry;
      slot = (slot + 1) & (SLOTS - 1);
    }
    const raw = decodeText(buf, start, end);
    if (this.entries >= MAX_ENTRIES) {
      this.spare.raw = raw;
      this.spare.trimmed = raw.trim();
      return this.spare;
    }
    const entry = { hash, bytes: buf.slice(start, end), raw, trimmed: raw.trim() };
    this.slots[slot] = entry;
    this.entries++;
    return entry;
  }
}

function sameBytes(bytes: Uint8Array, buf: Uint8Array, start: number, end: number): boolean {
  if (bytes.length !== end - start) return false;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== buf[start + i]) return false;
  return true;
}
