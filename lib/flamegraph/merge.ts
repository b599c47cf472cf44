/**
 * Folded lines → the frames of a flame graph, merged as flamegraph.pl merges them: lines are
 * sorted as text (or kept in input order for a flame chart) and each line shares the frames of
 * the line before it for as long as their names agree. A frame therefore spans the samples of
 * consecutive lines with the same prefix — which is what gives flame graphs their
 * alphabetical x axis, and what makes the numbers identical to flamegraph.pl's.
 */
import { parseFoldedLine, splitFrames, type FoldedLine } from "./folded.js";

export interface FrameNode {
  /** Frame name as in the input (annotations such as `_[k]` included); "" is the root. */
  name: string;
  /** 0 for the root ("all"), 1 for the first frame of each stack. */
  depth: number;
  /** Start and end on the sample axis: the frame's count is end - start. */
  start: number;
  end: number;
  /** Differential graphs: count2 - count of the stacks that end in this frame. */
  delta?: number;
}

export interface MergedFrames {
  /** Frames in the order they close (children before parents). */
  nodes: FrameNode[];
  /** Sum of counts (of the second column for differential input). */
  total: number;
  /** Largest |delta| of a line, at least 1 (scales differential colours). */
  maxDelta: number;
  differential: boolean;
  /** Lines that are not folded stacks. */
  ignored: number;
  firstIgnored?: { line: number; text: string };
  /** Frames dropped for being narrower than `minCount`. */
  pruned: number;
}

export interface MergeOptions {
  /** Reverse each stack (leaf first), to merge at the leaves. */
  reverse?: boolean;
  /** Keep input order (a flame chart: x is time), do not sort. */
  flamechart?: boolean;
  /** The "chain" palette marks waker frames (after "--" separators) with `_[w]`. */
  chain?: boolean;
  /**
   * Frames narrower than this count (given the total) are dropped as they close, so that a
   * huge input does not build frames that will not be drawn (flamegraph.pl's --minwidth).
   */
  minCount?: (total: number) => number;
}

/** The text without trailing ";" separators (empty trailing frames). */
function trimSeparators(stack: string): string {
  let end = stack.length;
  while (end > 0 && stack.charCodeAt(end - 1) === 59) end--;
  return end === stack.length ? stack : stack.slice(0, end);
}

/** Length of the longest common prefix of two strings. */
function commonPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/** Splits text into lines without a trailing empty one. */
export function textLines(text: string): string[] {
  const lines = text.split("\n");
  if (lines.length && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** The chain palette's waker annotation (flamegraph.pl's, including its "--" leaf for every stack). */
function annotateWakers(stack: string): string {
  const parts = stack.split(";--;");
  const first = parts.shift()!;
  const wakers = parts.map((part) => part.replace(/;/g, "_[w];") + "_[w]");
  return `${first};--;${wakers.join(";--;")}`;
}

export function mergeFolded(input: string | string[], options: MergeOptions = {}): MergedFrames {
  let lines = typeof input === "string" ? textLines(input) : input;
  if (options.reverse) {
    lines = lines.map((line) => {
      const parsed = parseFoldedLine(line);
      if (!parsed) return line;
      const reversed = splitFrames(parsed.stack).reverse().join(";");
      return parsed.count2Text === undefined ? `${reversed} ${parsed.countText}` : `${reversed} ${parsed.countText} ${parsed.count2Text}`;
    });
  }
  // flamegraph.pl sorts whole lines as text (counts included), so equal prefixes are adjacent.
  // The default sort compares UTF-16 units without calling back into JS.
  const ordered = options.flamechart ? lines : [...lines].sort();

  // First pass: parse, and add up the total so that narrow frames can be dropped as they close.
  const parsedLines: (FoldedLine | undefined)[] = new Array(ordered.length);
  let total = 0;
  let ignored = 0;
  for (let k = 0; k < ordered.length; k++) {
    const parsed = parseFoldedLine(ordered[k]!);
    parsedLines[k] = parsed;
    if (parsed) total += parsed.count2 ?? parsed.count;
    else ignored++;
  }
  let firstIgnored: MergedFrames["firstIgnored"];
  if (ignored > 0) {
    const index = lines.findIndex((line) => !parseFoldedLine(line));
    firstIgnored = { line: index + 1, text: lines[index]!.slice(0, 200) };
  }
  const minCount = options.minCount ? options.minCount(total) : -Infinity;

  const nodes: FrameNode[] = [];
  let prunedCount = 0;
  // The open frames (the previous line's, root first) as ranges of the line that opened them:
  // a name is only cut out of its line when its frame is kept, not for the many pruned ones.
  const openTexts: string[] = [];
  const openFrom: number[] = [];
  const openTo: number[] = [];
  const openStarts: number[] = [];
  const openDeltas: (number | undefined)[] = [];
  let open = 0;
  let time = 0;
  let maxDelta = 1;
  let differential = false;

  const close = (from: number) => {
    for (let i = open - 1; i >= from; i--) {
      const start = openStarts[i]!;
      // The root always stays: it carries the totals.
      if (time - start < minCount && i > 0) {
        prunedCount++;
        continue;
      }
      const node: FrameNode = { name: i === 0 ? "" : openTexts[i]!.slice(openFrom[i], openTo[i]), depth: i, start, end: time };
      if (openDeltas[i] !== undefined) node.delta = openDeltas[i];
      nodes.push(node);
    }
    open = from;
  };
  const push = (text: string, from: number, to: number, start: number, delta: number | undefined) => {
    openTexts[open] = text;
    openFrom[open] = from;
    openTo[open] = to;
    openStarts[open] = start;
    openDeltas[open] = delta;
    open++;
  };

  let previous = "";
  for (const parsed of parsedLines) {
    if (!parsed) continue;
    let delta: number | undefined;
    if (parsed.count2 !== undefined) {
      differential = true;
      delta = parsed.count2 - parsed.count;
      if (Math.abs(delta) > maxDelta) maxDelta = Math.abs(delta);
    }
    // Perl's split drops trailing empty frames: "a;b;;" has the frames a and b.
    const stack = trimSeparators(options.chain ? annotateWakers(parsed.stack) : parsed.stack);
    // The frames this line shares with the previous one (whose frames are open): those that end
    // at the same place, inside the text the two lines have in common. The frame at depth d is
    // the d-th ";"-separated field; `from` is where the first frame not shared starts.
    let same = open > 0 ? 1 : 0;
    let from = 0;
    if (same === 1 && stack !== "") {
      const common = commonPrefix(previous, stack);
      while (same < open) {
        let to = stack.indexOf(";", from);
        if (to < 0) to = stack.length;
        if (to > common || !(to === previous.length || previous.charCodeAt(to) === 59)) break;
        same++;
        from = to + 1;
        if (to === stack.length) break;
      }
    }
    close(same);
    // As flamegraph.pl: the delta belongs to the frame the line ends in.
    if (same === 0) push("", 0, 0, time, delta === undefined ? undefined : stack === "" ? delta : 0);
    if (stack !== "") {
      while (from <= stack.length) {
        let to = stack.indexOf(";", from);
        const last = to < 0;
        if (last) to = stack.length;
        push(stack, from, to, time, delta === undefined ? undefined : last ? delta : 0);
        from = to + 1;
      }
    }
    previous = stack;
    time += parsed.count2 ?? parsed.count;
  }
  close(0);
  return { nodes, total: time, maxDelta, differential, ignored, firstIgnored, pruned: prunedCount };
}
