/**
 * Interned byte strings, found by hash and compared in place, without decoding or copying the
 * input: the collapser finds each sample header's process (its text up to the pid/tid) here.
 * Keys live in one growing pool; each starts 4-byte aligned so that comparisons go a 32-bit
 * word at a time.
 */
import { growInt32, rehash } from "./stack-table.js";

const INITIAL_TABLE_BITS = 12;

/** Finishes a running 32-bit hash so that its low bits (the table slot) depend on every input bit. */
export function finishHash(h: number): number {
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  return h ^ (h >>> 13);
}

/**
 * A hash of bytes[start, end), a byte at a time (for short keys). It is a small integer (30
 * bits), which V8 passes around unboxed.
 */
export function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return finishHash(h) & 0x3fffffff;
}

export class ByteKeys {
  private pool = new Uint8Array(1 << 16);
  private poolView = new DataView(this.pool.buffer);
  private used = 0;
  private starts = new Int32Array(1024);
  private lengths = new Int32Array(1024);
  private hashes = new Int32Array(1024);
  private table = new Int32Array(1 << INITIAL_TABLE_BITS).fill(-1);
  /** Number of keys. */
  size = 0;
  /** The empty slot where the last unsuccessful find() would put the key. */
  private freeSlot = 0;

  /**
   * The id of the key equal to bytes[start, start + length) (`view` over the same bytes), or -1.
   * `hash` must come from the same function for the same bytes (any function, used consistently).
   */
  find(view: DataView, start: number, length: number, hash: number): number {
    const table = this.table;
    const mask = table.length - 1;
    let slot = hash & mask;
    for (;;) {
      const id = table[slot]!;
      if (id < 0) {
        this.freeSlot = slot;
        return -1;
      }
      if (this.hashes[id] === hash && this.lengths[id] === length && this.equal(view, start, this.starts[id]!, length)) return id;
      slot = (slot + 1) & mask;
    }
  }

  private equal(view: DataView, start: number, keyStart: number, length: number): boolean {
    const pool = this.poolView;
    let i = 0;
    for (; i + 4 <= length; i += 4) if (view.getInt32(start + i, true) !== pool.getInt32(keyStart + i, true)) return false;
    for (; i < length; i++) if (view.getUint8(start + i) !== pool.getUint8(keyStart + i)) return false;
    return true;
  }

  /** Adds bytes[start, start + length) right after a find() for them returned -1; returns its id. */
  add(bytes: Uint8Array, start: number, length: number, hash: number): number {
    const id = this.size;
    if (id === this.starts.length) {
      this.starts = growInt32(this.starts, 0);
      this.lengths = growInt32(this.lengths, 0);
      this.hashes = growInt32(this.hashes, 0);
    }
    const at = (this.used + 3) & ~3;
    if (at + length > this.pool.length) {
      let size = this.pool.length * 2;
      while (size < at + length) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.pool.subarray(0, this.used));
      this.pool = grown;
      this.poolView = new DataView(grown.buffer);
    }
    this.pool.set(bytes.subarray(start, start + length), at);
    this.used = at + length;
    this.starts[id] = at;
    this.lengths[id] = length;
    this.hashes[id] = hash;
    this.table[this.freeSlot] = id;
    this.size = id + 1;
    if (this.size * 2 > this.table.length) this.table = rehash(this.table, this.hashes, this.size);
    return id;
  }
}
