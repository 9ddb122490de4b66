import type { FileHandle } from "node:fs/promises";
import { LF } from "./csv-bytes.ts";

/** Default read size: large enough that a read costs little per byte, small beside any table worth timing. */
export const DEFAULT_CHUNK_BYTES = 1 << 20;

/**
 * Reads a file in chunks into one reused buffer. After each `refill`, bytes [0, limit) are whole lines:
 * `limit` is just after the last LF read so far (at the end of the file, after an LF added if the last line
 * had none), so that a scan for a field's end always meets an LF before running off the data.
 */
export class ChunkReader {
  buf: Uint8Array;
  limit = 0;
  /** Bytes [0, held) of `buf` are data; those past `limit` are an unfinished line. */
  held = 0;
  private eof = false;
  /** The file offset of buf[0]. */
  private offset = 0;

  constructor(
    private readonly handle: FileHandle,
    chunkBytes: number,
  ) {
    // One byte spare for the LF added after a last line without one.
    this.buf = new Uint8Array(Math.max(64, chunkBytes) + 1);
  }

  /** The buffer's size: the chunk size, unless one record needed more. */
  get capacity(): number {
    return this.buf.length - 1;
  }

  get atEnd(): boolean {
    return this.eof;
  }

  /** The file offset of `pos` in the buffer. */
  fileOffset(pos: number): number {
    return this.offset + pos;
  }

  /** Forgets the buffer and goes back to `offset` in the file; call `refill(0)` next. */
  rewind(offset: number): void {
    this.offset = offset;
    this.held = 0;
    this.limit = 0;
    this.eof = false;
  }

  /**
   * Drops the bytes before `keepFrom` (they move to the front), reads on, and returns false once everything
   * up to the end of the file has been handed out. A record longer than the buffer doubles it.
   */
  async refill(keepFrom: number): Promise<boolean> {
    if (keepFrom > 0) {
      this.buf.copyWithin(0, keepFrom, this.held);
      this.held -= keepFrom;
      this.offset += keepFrom;
    }
    for (;;) {
      if (this.eof) {
        this.limit = this.held;
        return this.held > 0;
      }
      if (this.held === this.buf.length - 1) {
        const bigger = new Uint8Array((this.buf.length - 1) * 2 + 1);
        bigger.set(this.buf.subarray(0, this.held));
        this.buf = bigger;
      }
      const { bytesRead } = await this.handle.read(
        this.buf,
        this.held,
        this.buf.length - 1 - this.held,
        this.offset + this.held,
      );
      this.held += bytesRead;
      if (bytesRead === 0) {
        this.eof = true;
        if (this.held > 0 && this.buf[this.held - 1] !== LF) this.buf[this.held++] = LF;
        continue;
      }
      const lastLf = this.buf.lastIndexOf(LF, this.held - 1);
      if (lastLf >= 0) {
        this.limit = lastLf + 1;
        return true;
      }
    }
  }
}
