/**
 * Folded lines → the frames of a flame graph, merged as flamegraph.pl merges them: lines are
 * sorted as text (or kept in input order for a flame chart) and each line shares the frames of
 * the line before it for as long as their names agree. A frame therefore spans the samples of
 * consecutive lines with the same prefix — which is what gives flame graphs their
 * alphabetical x axis, and what makes the numbers identical to flamegraph.pl's.
 */
import { parseFoldedLine, splitFrames } from "./folded.js";

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
}

export interface MergeOptions {
  /** Reverse each stack (leaf first), to merge at the leaves. */
  reverse?: boolean;
  /** Keep input order (a flame chart: x is time), do not sort. */
  flamechart?: boolean;
  /** The "chain" palette marks waker frames (after "--" separators) with `_[w]`. */
  chain?: boolean;
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
  const lineNumbers = new Map<string, number>();
  if (options.reverse) {
    lines = lines.map((line) => {
      const parsed = parseFoldedLine(line);
      if (!parsed) return line;
      const reversed = splitFrames(parsed.stack).reverse().join(";");
      return parsed.count2Text === undefined ? `${reversed} ${parsed.countText}` : `${reversed} ${parsed.countText} ${parsed.count2Text}`;
    });
  }
  let ordered = lines;
  if (!options.flamechart) {
    lines.forEach((line, i) => lineNumbers.set(line, i + 1));
    ordered = [...lines].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  const nodes: FrameNode[] = [];
  let openNames: string[] = [];
  let openStarts: number[] = [];
  let openDeltas: (number | undefined)[] = [];
  let time = 0;
  let maxDelta = 1;
  let differential = false;
  let ignored = 0;
  let firstIgnored: MergedFrames["firstIgnored"];

  const close = (from: number) => {
    for (let i = openNames.length - 1; i >= from; i--) {
      const node: FrameNode = { name: openNames[i]!, depth: i, start: openStarts[i]!, end: time };
      if (openDeltas[i] !== undefined) node.delta = openDeltas[i];
      nodes.push(node);
    }
    openNames.length = openStarts.length = openDeltas.length = from;
  };

  ordered.forEach((line, index) => {
    const parsed = parseFoldedLine(line);
    if (!parsed) {
      ignored++;
      if (!firstIgnored) {
        const number = options.flamechart ? index + 1 : (lineNumbers.get(line) ?? index + 1);
        firstIgnored = { line: number, text: line.slice(0, 200) };
      }
      return;
    }
    let delta: number | undefined;
    if (parsed.count2 !== undefined) {
      differential = true;
      delta = parsed.count2 - parsed.count;
      if (Math.abs(delta) > maxDelta) maxDelta = Math.abs(delta);
    }
    const stack = options.chain ? annotateWakers(parsed.stack) : parsed.stack;
    const frames = ["", ...splitFrames(stack)];
    let same = 0;
    while (same < openNames.length && same < frames.length && openNames[same] === frames[same]) same++;
    close(same);
    for (let i = same; i < frames.length; i++) {
      openNames.push(frames[i]!);
      openStarts.push(time);
      // As flamegraph.pl: the delta belongs to the frame the line ends in.
      openDeltas.push(delta === undefined ? undefined : i === frames.length - 1 ? delta : 0);
    }
    time += parsed.count2 ?? parsed.count;
  });
  close(0);
  openNames = [];
  openStarts = [];
  openDeltas = [];
  return { nodes, total: time, maxDelta, differential, ignored, firstIgnored };
}
