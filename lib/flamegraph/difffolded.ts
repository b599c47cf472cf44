/**
 * Two folded profiles → one differential folded profile ("stack count1 count2"), with
 * difffolded.pl's semantics: a stack missing from one side counts 0 there; `normalize` scales
 * the first profile's counts to the second's total; `stripHex` folds addresses (0x7f3a…) so
 * that stacks differing only in addresses merge. Lines are sorted (difffolded.pl prints them
 * in hash order).
 */
import { formatCount, parseFoldedLine } from "./folded.js";
import { textLines } from "./merge.js";

export interface DiffFoldedOptions {
  /** Scale the first profile's counts so both have the same total (-n). */
  normalize?: boolean;
  /** Replace hexadecimal numbers with "0x..." (-s). */
  stripHex?: boolean;
}

export interface DiffFoldedResult {
  text: string;
  total1: number;
  total2: number;
  stacks: number;
  /** Lines of either input that were not folded stacks. */
  ignored: number;
}

export function diffFolded(before: string, after: string, options: DiffFoldedOptions = {}): DiffFoldedResult {
  const counts = new Map<string, [number, number]>();
  const totals = [0, 0];
  let ignored = 0;
  [before, after].forEach((text, side) => {
    for (const line of textLines(text)) {
      const parsed = parseFoldedLine(line);
      // A differential line's first count is part of difffolded.pl's stack text: keep it so.
      if (!parsed) {
        ignored++;
        continue;
      }
      let stack = parsed.count2Text === undefined ? parsed.stack : `${parsed.stack} ${parsed.countText}`;
      const count = parsed.count2 ?? parsed.count;
      if (options.stripHex) stack = stack.replace(/0x[0-9a-fA-F]+/g, "0x...");
      let entry = counts.get(stack);
      if (!entry) counts.set(stack, (entry = [0, 0]));
      entry[side]! += count;
      totals[side]! += count;
    }
  });
  const [total1, total2] = totals as [number, number];
  const keys = [...counts.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out: string[] = [];
  for (const stack of keys) {
    let [c1, c2] = counts.get(stack)!;
    if (options.normalize && total1 !== total2) c1 = Math.trunc((c1 * total2) / total1);
    out.push(`${stack} ${formatCount(c1)} ${formatCount(c2)}\n`);
  }
  return { text: out.join(""), total1, total2, stacks: keys.length, ignored };
}
