import { MAX_KEY_BYTES, SLOT_BYTES, slotKeyStartsWith } from "./probation.ts";

/** Marks the end of a chain of slots, of the free list and of the LRU order. */
const NONE = -1;
/** The largest scratch buffer kept between calls: a larger answer's bytes pass through one of its own. */
const KEPT_SCRATCH_BYTES = 64 * 1024;

/** One answer as it left the LRU: its JSON and what was counted with it. */
export interface SlotEntry {
  json: string;
  expiresAt: number;
  asks: number;
}

/**
 * A least-recently-used map of JSON answers held in one fixed buffer of 256-byte slots: an entry is a
 * chain of as many slots as its key and JSON take, the oldest chains are freed for a new one, and a
 * hash table of typed arrays finds them. Nothing it keeps is an object of JavaScriptCore's heap. Kept as
 * strings, the answers that outlived a load pinned the collector's and the allocator's pages they were
 * scattered over, and the daemon's memory stayed high after the load.
 */
export class SlotLru {
  private readonly bytes: Uint8Array;
  /** The next slot of an entry's chain, or of the free list. */
  private readonly chain: Int32Array;
  // Per entry, at its first slot:
  private readonly keyBytes: Uint16Array;
  private readonly valueBytes: Uint32Array;
  private readonly hashes: Uint32Array;
  private readonly expiries: Float64Array;
  private readonly asks: Uint32Array;
  private readonly newer: Int32Array;
  private readonly older: Int32Array;
  /** Open addressing, linear probing: an entry's first slot plus one, 0 where empty. */
  private readonly table: Int32Array;
  private readonly mask: number;
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();
  private readonly keyScratch = new Uint8Array(MAX_KEY_BYTES);
  private keptScratch = new Uint8Array(SLOT_BYTES);
  /** The value's bytes on their way in or out: `keptScratch`, or a buffer for one large answer. */
  private valueScratch = this.keptScratch;
  private freeHead = NONE;
  private freeSlots = 0;
  private newest = NONE;
  private oldest = NONE;
  private count = 0;

  constructor(readonly slots: number) {
    this.bytes = new Uint8Array(slots * SLOT_BYTES);
    this.chain = new Int32Array(slots);
    this.keyBytes = new Uint16Array(slots);
    this.valueBytes = new Uint32Array(slots);
    this.hashes = new Uint32Array(slots);
    this.expiries = new Float64Array(slots);
    this.asks = new Uint32Array(slots);
    this.newer = new Int32Array(slots);
    this.older = new Int32Array(slots);
    const tableSize = 2 ** Math.ceil(Math.log2(2 * slots + 1));
    this.table = new Int32Array(tableSize);
    this.mask = tableSize - 1;
    this.clear();
  }

  get size(): number {
    return this.count;
  }

  has(key: string): boolean {
    return this.find(key) !== NONE;
  }

  /** The entry, made the most recently used, its asks counted once more; undefined if absent. */
  ask(key: string): SlotEntry | undefined {
    const head = this.find(key);
    if (head === NONE) return undefined;
    this.unlink(head);
    this.linkNewest(head);
    this.asks[head]! += 1;
    return { json: this.readValue(head), expiresAt: this.expiries[head]!, asks: this.asks[head]! };
  }

  /**
   * Stores the entry as the most recently used, replacing the key's previous entry and freeing the oldest
   * until it fits. False, with nothing changed but the key's previous entry gone, when the key is longer than
   * `MAX_KEY_BYTES` or the entry needs more slots than there are.
   */
  set(key: string, json: string, expiresAt: number, asks: number): boolean {
    this.delete(key);
    const keyLength = this.encodeKey(key);
    // UTF-8 takes at least a byte per UTF-16 unit: this one cannot fit, and is not even encoded.
    if (keyLength === undefined || keyLength + json.length > this.slots * SLOT_BYTES) return false;
    const valueLength = this.encodeValue(json);
    const needed = slotsFor(keyLength + valueLength);
    if (needed > this.slots) return this.releaseScratch(false);
    while (this.freeSlots < needed) this.remove(this.oldest);
    const head = this.allocate(needed);
    this.write(head, keyLength, valueLength);
    this.keyBytes[head] = keyLength;
    this.valueBytes[head] = valueLength;
    this.expiries[head] = expiresAt;
    this.asks[head] = asks;
    const hash = this.hashKey(keyLength);
    this.hashes[head] = hash;
    let at = hash & this.mask;
    while (this.table[at] !== 0) at = (at + 1) & this.mask;
    this.table[at] = head + 1;
    this.linkNewest(head);
    this.count++;
    return this.releaseScratch(true);
  }

  delete(key: string): void {
    const head = this.find(key);
    if (head !== NONE) this.remove(head);
  }

  /** Every entry whose key starts with `prefix` (ASCII); all of them without one. */
  clear(prefix = ""): void {
    if (prefix === "") {
      this.table.fill(0);
      for (let slot = 0; slot < this.slots; slot++) this.chain[slot] = slot + 1 < this.slots ? slot + 1 : NONE;
      this.freeHead = this.slots > 0 ? 0 : NONE;
      this.freeSlots = this.slots;
      this.newest = this.oldest = NONE;
      this.count = 0;
      return;
    }
    for (let head = this.newest; head !== NONE; ) {
      const next = this.older[head]!;
      if (slotKeyStartsWith(this.bytes, head, this.keyBytes[head]!, prefix)) this.remove(head);
      head = next;
    }
  }

  private find(key: string): number {
    const length = this.encodeKey(key);
    if (length === undefined) return NONE;
    const hash = this.hashKey(length);
    for (let at = hash & this.mask; this.table[at] !== 0; at = (at + 1) & this.mask) {
      const head = this.table[at]! - 1;
      if (this.hashes[head] === hash && this.keyBytes[head] === length && this.keyEquals(head, length)) return head;
    }
    return NONE;
  }

  private remove(head: number): void {
    this.unindex(head);
    this.unlink(head);
    let last = head;
    while (this.chain[last] !== NONE) last = this.chain[last]!;
    this.chain[last] = this.freeHead;
    this.freeHead = head;
    this.freeSlots += this.slotsOf(head);
    this.count--;
  }

  /** Takes the entry out of the table, shifting back the entries after it that probed past its place. */
  private unindex(head: number): void {
    let hole = this.hashes[head]! & this.mask;
    while (this.table[hole] !== head + 1) hole = (hole + 1) & this.mask;
    this.table[hole] = 0;
    for (let at = (hole + 1) & this.mask; this.table[at] !== 0; at = (at + 1) & this.mask) {
      const home = this.hashes[this.table[at]! - 1]! & this.mask;
      // The entry at `at` may fill the hole unless its home lies cyclically in (hole, at].
      const stays = hole < at ? home > hole && home <= at : home > hole || home <= at;
      if (stays) continue;
      this.table[hole] = this.table[at]!;
      this.table[at] = 0;
      hole = at;
    }
  }

  private allocate(needed: number): number {
    const head = this.freeHead;
    let last = head;
    for (let i = 1; i < needed; i++) last = this.chain[last]!;
    this.freeHead = this.chain[last]!;
    this.chain[last] = NONE;
    this.freeSlots -= needed;
    return head;
  }

  private slotsOf(head: number): number {
    return slotsFor(this.keyBytes[head]! + this.valueBytes[head]!);
  }

  private linkNewest(head: number): void {
    this.older[head] = this.newest;
    this.newer[head] = NONE;
    if (this.newest !== NONE) this.newer[this.newest] = head;
    this.newest = head;
    if (this.oldest === NONE) this.oldest = head;
  }

  private unlink(head: number): void {
    const newer = this.newer[head]!;
    const older = this.older[head]!;
    if (newer === NONE) this.newest = older;
    else this.older[newer] = older;
    if (older === NONE) this.oldest = newer;
    else this.newer[older] = newer;
  }

  /** The key's UTF-8 bytes in `keyScratch`, or undefined when it is too long to keep. */
  private encodeKey(key: string): number | undefined {
    if (key.length > MAX_KEY_BYTES) return undefined;
    const { read, written } = this.encoder.encodeInto(key, this.keyScratch);
    return read === key.length ? written : undefined;
  }

  /** The JSON's UTF-8 bytes in `valueScratch`. */
  private encodeValue(json: string): number {
    this.pickScratch(json.length * 3);
    return this.encoder.encodeInto(json, this.valueScratch).written;
  }

  /** Points `valueScratch` at a buffer of at least `bytes`: the kept one, grown up to its limit, or a new one. */
  private pickScratch(bytes: number): void {
    if (bytes > KEPT_SCRATCH_BYTES) this.valueScratch = new Uint8Array(bytes);
    else if (this.keptScratch.length < bytes) this.valueScratch = this.keptScratch = new Uint8Array(KEPT_SCRATCH_BYTES);
    else this.valueScratch = this.keptScratch;
  }

  /** Lets a large answer's buffer go with the call that needed it. */
  private releaseScratch<T>(result: T): T {
    this.valueScratch = this.keptScratch;
    return result;
  }

  /** Copies the key in `keyScratch`, then the value in `valueScratch`, along the chain from `head`. */
  private write(head: number, keyLength: number, valueLength: number): void {
    this.bytes.set(this.keyScratch.subarray(0, keyLength), head * SLOT_BYTES);
    this.eachPiece(head, keyLength, valueLength, (at, done, piece) =>
      this.bytes.set(this.valueScratch.subarray(done, done + piece), at),
    );
  }

  private readValue(head: number): string {
    const keyLength = this.keyBytes[head]!;
    const valueLength = this.valueBytes[head]!;
    const start = head * SLOT_BYTES + keyLength;
    if (keyLength + valueLength <= SLOT_BYTES)
      return this.decoder.decode(this.bytes.subarray(start, start + valueLength));
    this.pickScratch(valueLength);
    this.eachPiece(head, keyLength, valueLength, (at, done, piece) =>
      this.valueScratch.set(this.bytes.subarray(at, at + piece), done),
    );
    return this.releaseScratch(this.decoder.decode(this.valueScratch.subarray(0, valueLength)));
  }

  /**
   * Hands `copy` each piece of the value along the chain from `head`: where it lies in `bytes`, where in the
   * value, and its length.
   */
  private eachPiece(
    head: number,
    keyLength: number,
    valueLength: number,
    copy: (at: number, done: number, piece: number) => void,
  ): void {
    let slot = head;
    let at = head * SLOT_BYTES + keyLength;
    let room = SLOT_BYTES - keyLength;
    for (let done = 0; done < valueLength; ) {
      if (room === 0) {
        slot = this.chain[slot]!;
        at = slot * SLOT_BYTES;
        room = SLOT_BYTES;
      }
      const piece = Math.min(room, valueLength - done);
      copy(at, done, piece);
      done += piece;
      room -= piece;
      at += piece;
    }
  }

  /** FNV-1a of the key in `keyScratch`: computed in place, where a hash function would take a view of it. */
  private hashKey(length: number): number {
    let hash = 0x811c9dc5;
    for (let i = 0; i < length; i++) hash = Math.imul(hash ^ this.keyScratch[i]!, 0x01000193);
    return hash >>> 0;
  }

  private keyEquals(head: number, length: number): boolean {
    const at = head * SLOT_BYTES;
    for (let i = 0; i < length; i++) if (this.bytes[at + i] !== this.keyScratch[i]) return false;
    return true;
  }
}

/** The slots an entry of `bytes` (key and value) takes: at least one. */
function slotsFor(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / SLOT_BYTES));
}
