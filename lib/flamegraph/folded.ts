/**
 * Folded stacks ("proc;root;child;leaf COUNT", one stack a line), the format between the
 * collapsers and flame graph renderers.
 *
 * Stacks are kept as byte strings (latin1: one char per input byte) so that the text written out
 * is byte-identical to the input's symbol bytes and sorts as Perl's `sort` does (by byte). Use
 * `toString()` for Unicode text (symbols are UTF-8 on Linux).
 */

export class FoldedStacks {
  // Stacks and counts in insertion order; the index from stack to position is built on the first
  // add(), so that a collapser's distinct stacks are never hashed as strings.
  private keys: string[] = [];
  private values: number[] = [];
  private index: Map<string, number> | undefined = new Map();

  /** Folded stacks from distinct stack texts and their counts (no text may repeat). */
  static fromDistinct(stacks: string[], counts: number[]): FoldedStacks {
    const folded = new FoldedStacks();
    folded.keys = stacks;
    folded.values = counts;
    folded.index = undefined;
    return folded;
  }

  /** Folded stacks from stack texts and counts, adding the counts of repeated texts. */
  static fromEntries(stacks: string[], counts: number[]): FoldedStacks {
    const folded = new FoldedStacks();
    for (let i = 0; i < stacks.length; i++) folded.add(stacks[i]!, counts[i]!);
    return folded;
  }

  /** Adds `count` to a stack given as a latin1 byte string. */
  add(stack: string, count: number): void {
    let index = this.index;
    if (!index) {
      index = new Map();
      for (let i = 0; i < this.keys.length; i++) index.set(this.keys[i]!, i);
      this.index = index;
    }
    const at = index.get(stack);
    if (at === undefined) {
      index.set(stack, this.keys.length);
      this.keys.push(stack);
      this.values.push(count);
    } else {
      this.values[at]! += count;
    }
  }

  /** Number of distinct stacks. */
  get size(): number {
    return this.keys.length;
  }

  /** Sum of all counts. */
  total(): number {
    let sum = 0;
    for (const count of this.values) sum += count;
    return sum;
  }

  /** Positions of the stacks in byte order of their text, as Perl's `sort` orders them. */
  private order(): number[] {
    const keys = this.keys;
    // Latin1 strings: comparing UTF-16 code units is comparing bytes.
    // Keys are distinct, so one comparison decides.
    return Array.from(keys.keys()).sort((a, b) => (keys[a]! < keys[b]! ? -1 : 1));
  }

  /** [stack, count] pairs sorted by stack bytes, as stackcollapse-perf.pl prints them. */
  sorted(): [string, number][] {
    return this.order().map((i) => [this.keys[i]!, this.values[i]!]);
  }

  /** The folded text as bytes, exactly as stackcollapse-perf.pl writes it. */
  toBuffer(): Buffer {
    const chunks: Buffer[] = [];
    this.writeTo((chunk) => chunks.push(chunk));
    return Buffer.concat(chunks);
  }

  /**
   * Writes the folded text in blocks of about `blockSize` bytes, so that a large profile is
   * never held twice more in memory (as one string and one buffer).
   */
  writeTo(write: (block: Buffer) => void, blockSize = 1 << 20): void {
    let lines: string[] = [];
    let size = 0;
    for (const i of this.order()) {
      const stack = this.keys[i]!;
      const count = formatCount(this.values[i]!);
      lines.push(stack, " ", count, "\n");
      size += stack.length + count.length + 2;
      if (size >= blockSize) {
        write(Buffer.from(lines.join(""), "latin1"));
        lines = [];
        size = 0;
      }
    }
    if (lines.length) write(Buffer.from(lines.join(""), "latin1"));
  }

  /** The folded text, decoded as UTF-8. */
  toString(): string {
    return this.toBuffer().toString("utf8");
  }

  /** Stacks decoded as UTF-8, frames split, in byte order. */
  *stacks(): Generator<{ frames: string[]; count: number }> {
    for (const [stack, count] of this.sorted()) {
      const text = /[\x80-\xff]/.test(stack) ? Buffer.from(stack, "latin1").toString("utf8") : stack;
      yield { frames: text.split(";"), count };
    }
  }
}

/**
 * A count as Perl prints a number: integers in full, other values with 15 significant digits
 * ("%.15g").
 */
export function formatCount(n: number): string {
  // Perl adds integer counts as 64-bit integers and prints them in full.
  if (Number.isInteger(n) && Math.abs(n) < 2 ** 63) return Math.abs(n) <= Number.MAX_SAFE_INTEGER ? String(n) : BigInt(n).toString();
  if (!Number.isFinite(n)) return n > 0 ? "Inf" : n < 0 ? "-Inf" : "NaN";
  const text = n.toPrecision(15);
  if (text.includes("e")) {
    const [mantissa, exponent] = text.split("e") as [string, string];
    const m = mantissa.includes(".") ? mantissa.replace(/\.?0+$/, "") : mantissa;
    const sign = exponent.startsWith("-") ? "-" : "+";
    const digits = exponent.replace(/^[+-]/, "").padStart(2, "0");
    return `${m}e${sign}${digits}`;
  }
  return text.includes(".") ? text.replace(/\.?0+$/, "") : text;
}

/** One line of folded input: the stack and its count, or two counts for a differential. */
export interface FoldedLine {
  stack: string;
  /** The count, or the first profile's count in a differential line. */
  count: number;
  /** The second profile's count: frame widths follow it, colours follow count2 - count. */
  count2?: number;
  /** The counts as written (kept for `--reverse`, which rebuilds lines). */
  countText: string;
  count2Text?: string;
}

function isBlank(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

const NUMBER = /^\d+(?:\.\d*)?$/;

/**
 * Splits "stack COUNT" at its last blank, as `^(.*)\s+?(\d+(?:\.\d*)?)$` does. Scanning back
 * stops at the first character that cannot be part of a count, so a line is not read twice.
 */
function splitCount(line: string): [string, string] | undefined {
  let i = line.length - 1;
  for (; i >= 0; i--) {
    const c = line.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || c === 46)) break;
  }
  if (i < 0 || i === line.length - 1 || !isBlank(line.charCodeAt(i))) return undefined;
  const count = line.slice(i + 1);
  return NUMBER.test(count) ? [line.slice(0, i), count] : undefined;
}

/**
 * Parses one folded line with flamegraph.pl's rules: the count is the last blank-separated
 * number; when the text before it also ends in a number, the line is differential. Returns
 * undefined for a line that is not folded ("" included).
 */
export function parseFoldedLine(line: string): FoldedLine | undefined {
  const text = line.endsWith("\r") ? line.slice(0, -1) : line;
  const last = splitCount(text);
  if (!last) return undefined;
  const before = splitCount(last[0]);
  if (before) {
    return { stack: before[0], count: Number(before[1]), count2: Number(last[1]), countText: before[1], count2Text: last[1] };
  }
  return { stack: last[0], count: Number(last[1]), countText: last[1] };
}

/** Perl's `split ";", $stack`: trailing empty frames are dropped. */
export function splitFrames(stack: string): string[] {
  const frames = stack.split(";");
  while (frames.length && frames[frames.length - 1] === "") frames.pop();
  return frames;
}

/**
 * Parses folded text (one "stack count" a line). Lines that are not folded are counted in
 * `ignored`, with the first one kept for error messages.
 */
export function parseFolded(text: string): { lines: FoldedLine[]; ignored: number; firstIgnored?: { line: number; text: string } } {
  const lines: FoldedLine[] = [];
  let ignored = 0;
  let firstIgnored: { line: number; text: string } | undefined;
  let start = 0;
  let number = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    number++;
    const raw = text.slice(start, end);
    const parsed = parseFoldedLine(raw);
    if (parsed) lines.push(parsed);
    else {
      ignored++;
      firstIgnored ??= { line: number, text: raw.slice(0, 200) };
    }
    start = end + 1;
  }
  return { lines, ignored, firstIgnored };
}
