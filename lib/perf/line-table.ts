/**
 * The distinct call-chain lines a collapser has seen, with what it knows about each, laid out so
 * that checking a line touches one place in memory: an entry is a run of 32-bit words in one
 * pool — its length, hash, frame group (for java and other processes), the entry of the line that
 * followed it last time — directly followed by the line's bytes. An entry's id is its offset in
 * the pool. Lines are found by hash and compared in place, a word at a time, without decoding or
 * copying the input. (The collapser keeps its sample headers' process parts — the text up to the
 * pid/tid — in a table of its own, with the process name id as the group.)
 */

/** Finishes a running 32-bit hash so that its low bits (the table slot) depend on every input bit. */
function finishHash(h: number): number {
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

const LENGTH = 0;
const HASH = 1;
const GROUP = 2;
const GROUP_JAVA = 3;
const NEXT = 4;
const HEADER_WORDS = 5;

export class LineTable {
  private words = new Int32Array(1 << 16);
  private view = new DataView(this.words.buffer);
  private used = 0;
  private table = new Int32Array(1 << 12).fill(-1);
  private freeSlot = 0;
  /** Number of lines. */
  size = 0;

  /**
   * The entry of the line at bytes[start, end) (`view` over the same bytes), or -1; `hash` is
   * lineHash() of the bytes.
   */
  find(view: DataView, start: number, end: number, hash: number): number {
    const table = this.table;
    const words = this.words;
    const mask = table.length - 1;
    const length = end - start;
    let slot = hash & mask;
    for (;;) {
      const entry = table[slot]!;
      if (entry < 0) {
        this.freeSlot = slot;
        return -1;
      }
      if (words[entry + HASH] === hash && words[entry + LENGTH] === length && this.equal(view, start, entry, length)) return entry;
      slot = (slot + 1) & mask;
    }
  }

  /**
   * The end of the line at `start` (the index of its "\n", which must come before `to`) when it
   * is the line of `entry`, else -1: checks a guess without hashing the line.
   */
  matchAt(view: DataView, start: number, to: number, entry: number): number {
    const end = start + this.words[entry + LENGTH]!;
    if (end >= to || view.getUint8(end) !== 10) return -1;
    return this.equal(view, start, entry, end - start) ? end : -1;
  }

  private equal(view: DataView, start: number, entry: number, length: number): boolean {
    const pool = this.view;
    const key = (entry + HEADER_WORDS) * 4;
    let i = 0;
    for (; i + 4 <= length; i += 4) if (view.getInt32(start + i, true) !== pool.getInt32(key + i, true)) return false;
    for (; i < length; i++) if (view.getUint8(start + i) !== pool.getUint8(key + i)) return false;
    return true;
  }

  /** Adds the line bytes[start, end) right after find() returned -1 for it; returns its entry. */
  add(bytes: Uint8Array, start: number, end: number, hash: number, group: number): number {
    const length = end - start;
    const entry = this.used;
    const need = entry + HEADER_WORDS + ((length + 3) >> 2);
    if (need > this.words.length) {
      let size = this.words.length * 2;
      while (size < need) size *= 2;
      const grown = new Int32Array(size);
      grown.set(this.words.subarray(0, this.used));
      this.words = grown;
      this.view = new DataView(grown.buffer);
    }
    const words = this.words;
    words[entry + LENGTH] = length;
    words[entry + HASH] = hash;
    words[entry + GROUP] = group;
    words[entry + GROUP_JAVA] = group;
    words[entry + NEXT] = -1;
    new Uint8Array(words.buffer, (entry + HEADER_WORDS) * 4, length).set(bytes.subarray(start, end));
    this.used = need;
    this.table[this.freeSlot] = entry;
    this.size++;
    if (this.size * 2 > this.table.length) this.grow();
    return entry;
  }

  private grow(): void {
    const next = new Int32Array(this.table.length * 2).fill(-1);
    const mask = next.length - 1;
    for (const entry of this.table) {
      if (entry < 0) continue;
      let slot = this.words[entry + HASH]! & mask;
      while (next[slot]! >= 0) slot = (slot + 1) & mask;
      next[slot] = entry;
    }
    this.table = next;
  }

  group(entry: number, java: boolean): number {
    return this.words[entry + (java ? GROUP_JAVA : GROUP)]!;
  }

  setGroup(entry: number, java: boolean, group: number): void {
    this.words[entry + (java ? GROUP_JAVA : GROUP)] = group;
  }

  /** The entry of the line that followed this one last time, or -1. */
  next(entry: number): number {
    return this.words[entry + NEXT]!;
  }

  setNext(entry: number, next: number): void {
    this.words[entry + NEXT] = next;
  }

  /** The line's text as a latin1 string (one char per byte). */
  text(entry: number): string {
    return Buffer.from(this.words.buffer, (entry + HEADER_WORDS) * 4, this.words[entry + LENGTH]!).toString("latin1");
  }
}

/**
 * Hashes the line starting at bytes[start] up to its "\n" (which must come before `to`), a
 * 32-bit word at a time; returns the index of the "\n" and leaves the hash in `out.hash`.
 */
export function hashLine(bytes: Uint8Array, view: DataView, start: number, to: number, out: { hash: number }): number {
  let p = start;
  let h = 0x811c9dc5;
  while (p + 4 <= to) {
    const w = view.getInt32(p, true);
    // Does the word hold a "\n" byte? (x has a zero byte exactly where w has 0x0a.)
    const x = w ^ 0x0a0a0a0a;
    if (((x - 0x01010101) & ~x & 0x80808080) !== 0) break;
    h = Math.imul(h ^ w, 0x01000193);
    p += 4;
  }
  let c: number;
  while ((c = bytes[p]!) !== 10) {
    h = Math.imul(h ^ c, 0x01000193);
    p++;
  }
  // A small integer: V8 keeps it unboxed wherever it goes.
  out.hash = finishHash(h) & 0x3fffffff;
  return p;
}
