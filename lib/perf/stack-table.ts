/**
 * Distinct stacks as sequences of small integers (a process name id, then frame-group ids leaf
 * first) in one Int32Array pool, found by an open-addressing hash table: adding a sample is a
 * hash of ~20 integers and one comparison, with no strings built until the end.
 */

/** A table twice the size with `count` entries placed again by their hashes (-1 = empty). */
function rehash(table: Int32Array, hashes: ArrayLike<number>, count: number): Int32Array {
  const next = new Int32Array(table.length * 2).fill(-1);
  const mask = next.length - 1;
  for (let id = 0; id < count; id++) {
    let slot = hashes[id]! & mask;
    while (next[slot]! >= 0) slot = (slot + 1) & mask;
    next[slot] = id;
  }
  return next;
}

/** A StackTable's contents in transferable arrays (stack `id` is pool[starts[id], starts[id] + lengths[id])). */
export interface StackTableData {
  pool: Int32Array;
  starts: Int32Array;
  lengths: Int32Array;
  counts: Float64Array;
}

export class StackTable {
  private pool = new Int32Array(1 << 16);
  private used = 0;
  private starts: number[] = [];
  private lengths: number[] = [];
  private counts: number[] = [];
  private hashes: number[] = [];
  private table: Int32Array = new Int32Array(1 << 14).fill(-1);

  get size(): number {
    return this.starts.length;
  }

  /** Adds `count` to the stack (root, frames[at..at + n)); returns the stack's id. */
  add(root: number, frames: Int32Array, at: number, n: number, count: number): number {
    let h = Math.imul(root + 1, 0x9e3779b1) ^ n;
    for (let i = 0; i < n; i++) h = Math.imul(h ^ frames[at + i]!, 0x01000193);
    h ^= h >>> 16;
    const mask = this.table.length - 1;
    let slot = h & mask;
    const pool = this.pool;
    for (;;) {
      const id = this.table[slot]!;
      if (id < 0) break;
      if (this.hashes[id] === h && this.lengths[id] === n + 1) {
        const start = this.starts[id]!;
        if (pool[start] === root) {
          let i = 0;
          while (i < n && pool[start + 1 + i] === frames[at + i]) i++;
          if (i === n) {
            this.counts[id]! += count;
            return id;
          }
        }
      }
      slot = (slot + 1) & mask;
    }
    return this.insert(slot, h, root, frames, at, n, count);
  }

  private insert(slot: number, h: number, root: number, frames: Int32Array, at: number, n: number, count: number): number {
    const id = this.starts.length;
    if (this.used + n + 1 > this.pool.length) {
      const grown = new Int32Array(Math.max(this.pool.length * 2, this.used + n + 1));
      grown.set(this.pool.subarray(0, this.used));
      this.pool = grown;
    }
    this.pool[this.used] = root;
    this.pool.set(frames.subarray(at, at + n), this.used + 1);
    this.starts.push(this.used);
    this.lengths.push(n + 1);
    this.counts.push(count);
    this.hashes.push(h);
    this.used += n + 1;
    this.table[slot] = id;
    if (this.starts.length * 2 > this.table.length) this.table = rehash(this.table, this.hashes, this.starts.length);
    return id;
  }

  /** The stacks as arrays (copies), e.g. to send to another thread. */
  data(): StackTableData {
    return {
      pool: this.pool.slice(0, this.used),
      starts: Int32Array.from(this.starts),
      lengths: Int32Array.from(this.lengths),
      counts: Float64Array.from(this.counts),
    };
  }

  /** Calls `visit(root, framesLeafFirst, count)` for every distinct stack. */
  forEach(visit: (root: number, frames: Int32Array, count: number) => void): void {
    for (let id = 0; id < this.starts.length; id++) {
      const start = this.starts[id]!;
      visit(this.pool[start]!, this.pool.subarray(start + 1, start + this.lengths[id]!), this.counts[id]!);
    }
  }
}
