/**
 * The hottest functions of a set of folded stacks: what a reader looks for first in a flame graph
 * (the widest plateaus and the widest towers), as rows for a table or a text summary.
 */
import type { FoldedStacks } from "./folded.js";

/** Collapse annotations (`_[k]` kernel, `_[j]` JIT, `_[i]` inlined, `_[w]` waker): not part of the name. */
const ANNOTATION = /_\[[kwij]\]$/;

export interface TopFunction {
  name: string;
  /** Samples where the function is the leaf (running itself). */
  self: number;
  /** Samples where it is anywhere on the stack (itself or its callees). */
  total: number;
  selfPercent: number;
  totalPercent: number;
}

export interface TopFunctionsOptions {
  /** Rank by self samples (default) or by total. */
  by?: "self" | "total";
  /** Root frames that are not functions (perf's collapse puts the process name first). */
  skipRoot?: number;
}

function percent(part: number, whole: number): number {
  return whole > 0 ? (100 * part) / whole : 0;
}

/** The n hottest functions, names shown without collapse annotations (as in the flame graph). */
export function topFunctions(stacks: FoldedStacks, n = 10, options: TopFunctionsOptions = {}): TopFunction[] {
  const from = options.skipRoot ?? 0;
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let all = 0;
  for (const { frames: annotated, count } of stacks.stacks()) {
    const frames = annotated.map((f) => f.replace(ANNOTATION, ""));
    all += count;
    if (frames.length > from) {
      const leaf = frames[frames.length - 1]!;
      self.set(leaf, (self.get(leaf) ?? 0) + count);
    }
    // Recursion puts a function on a stack more than once; it still ran in those samples once.
    const seen = new Set(frames.slice(from));
    for (const name of seen) total.set(name, (total.get(name) ?? 0) + count);
  }
  const rows = [...total.keys()].map((name) => {
    const s = self.get(name) ?? 0;
    const t = total.get(name)!;
    return { name, self: s, total: t, selfPercent: percent(s, all), totalPercent: percent(t, all) };
  });
  const key = options.by === "total" ? "total" : "self";
  rows.sort((a, b) => b[key] - a[key] || (key === "self" ? b.total - a.total : b.self - a.self) || (a.name < b.name ? -1 : 1));
  return rows.slice(0, n);
}
