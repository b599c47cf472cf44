/**
 * The merge walks each sorted line against the previous one by their common prefix, without
 * splitting lines into frames; a property test holds it to the plain algorithm it replaces
 * (flamegraph.pl's: split every line, compare frame by frame) on generated folded input with
 * the awkward cases: empty frames, trailing separators, empty stacks, differential counts.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseFoldedLine, splitFrames } from "../../lib/flamegraph/folded.js";
import { mergeFolded, type FrameNode } from "../../lib/flamegraph/merge.js";

function referenceMerge(lines: string[], minCount: number): FrameNode[] {
  const nodes: FrameNode[] = [];
  const names: string[] = [];
  const starts: number[] = [];
  const deltas: (number | undefined)[] = [];
  let time = 0;
  const close = (from: number) => {
    for (let i = names.length - 1; i >= from; i--) {
      if (time - starts[i]! < minCount && i > 0) continue;
      const node: FrameNode = { name: names[i]!, depth: i, start: starts[i]!, end: time };
      if (deltas[i] !== undefined) node.delta = deltas[i];
      nodes.push(node);
    }
    names.length = starts.length = deltas.length = from;
  };
  for (const line of [...lines].sort()) {
    const parsed = parseFoldedLine(line);
    if (!parsed) continue;
    const delta = parsed.count2 === undefined ? undefined : parsed.count2 - parsed.count;
    const frames = splitFrames(parsed.stack);
    let same = names.length > 0 ? 1 : 0;
    while (same < names.length && same <= frames.length && names[same] === frames[same - 1]) same++;
    close(same);
    for (let i = same; i <= frames.length; i++) {
      names.push(i === 0 ? "" : frames[i - 1]!);
      starts.push(time);
      deltas.push(delta === undefined ? undefined : i === frames.length ? delta : 0);
    }
    time += parsed.count2 ?? parsed.count;
  }
  close(0);
  return nodes;
}

const frame = fc.constantFrom("a", "b", "ab", "", "a b", "x;", "-");
const stack = fc.array(frame, { maxLength: 6 }).map((frames) => frames.join(";"));
const line = fc.tuple(stack, fc.nat(20), fc.option(fc.nat(20)), fc.constantFrom("", ";", ";;")).map(([s, c, c2, tail]) => (c2 === null ? `${s}${tail} ${c}` : `${s}${tail} ${c} ${c2}`));

/** flamegraph.pl's parse of a line: the count, then (when the rest also ends in one) the first count. */
const COUNT_RE = /^([^\n]*)[\t\n\v\f\r ]+?(\d+(?:\.\d*)?)$/;
function referenceParse(line: string): { stack: string; count: string; count2?: string } | undefined {
  const text = line.endsWith("\r") ? line.slice(0, -1) : line;
  const last = COUNT_RE.exec(text);
  if (!last) return undefined;
  const before = COUNT_RE.exec(last[1]!);
  return before ? { stack: before[1]!, count: before[2]!, count2: last[2]! } : { stack: last[1]!, count: last[2]! };
}

describe("parsing folded lines", () => {
  it("splits off the counts as flamegraph.pl's regular expression does", () => {
    const text = fc.string({ unit: fc.constantFrom("a", ";", " ", "\t", "1", "0", ".", "-", "\r", "x") as fc.Arbitrary<string>, maxLength: 16 });
    fc.assert(
      fc.property(text, (line) => {
        const parsed = parseFoldedLine(line);
        const expected = referenceParse(line);
        expect(parsed && { stack: parsed.stack, count: parsed.countText, ...(parsed.count2Text === undefined ? {} : { count2: parsed.count2Text }) }).toEqual(expected);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 5000) },
    );
  });
});

describe("merging folded lines", () => {
  it("gives the frames of the split-every-line algorithm", () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 25 }), fc.constantFrom(-Infinity, 0, 3, 10), (lines, minCount) => {
        expect(mergeFolded(lines, { minCount: () => minCount }).nodes).toEqual(referenceMerge(lines, minCount));
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 2000) },
    );
  });
});
