/**
 * Collapsing `perf script` text from a string, a file or a stream, with input checks: a perf.data
 * file, binary data, empty input or text that is not perf script output gives a UsageError
 * that says so (naming the first line that did not parse).
 */
import { closeSync, openSync, readSync } from "node:fs";
import type { FoldedStacks } from "../flamegraph/folded.js";
import { PerfScriptCollapser, type CollapseOptions, type CollapseStats } from "./collapse.js";
import { collapseFileInParallel, type ParallelTuning } from "./collapse-parallel.js";
import { checkPerfScriptHead, collapseProblem, collapseWarnings } from "./input.js";

export interface CollapseResult {
  folded: FoldedStacks;
  stats: CollapseStats;
  /** Remarks for the reader (skipped lines, other events, a cut-off last sample). */
  warnings: string[];
}

const READ_SIZE = 1 << 20;

function finish(collapser: PerfScriptCollapser, options: CollapseOptions, what: string, ended = false): CollapseResult {
  const folded = ended ? collapser.folded() : collapser.end();
  const problem = collapseProblem(collapser.stats, options.eventFilter, what);
  if (problem) throw problem;
  return { folded, stats: collapser.stats, warnings: collapseWarnings(collapser.stats) };
}

/** Collapses perf script output held in memory. */
export function collapsePerfScript(input: string | Uint8Array, options: CollapseOptions = {}): CollapseResult {
  const bytes = typeof input === "string" ? Buffer.from(input, "utf8") : input;
  checkPerfScriptHead(bytes);
  const collapser = new PerfScriptCollapser(options);
  collapser.push(bytes);
  return finish(collapser, options, "The input");
}

/** Collapses a perf script text file, reading it in 1 MiB blocks (memory ∝ distinct stacks). */
export function collapsePerfScriptFile(path: string, options: CollapseOptions = {}): CollapseResult {
  const collapser = new PerfScriptCollapser(options);
  const buffer = Buffer.allocUnsafe(READ_SIZE);
  const fd = openSync(path, "r");
  try {
    let first = true;
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n <= 0) break;
      const chunk = buffer.subarray(0, n);
      if (first) checkPerfScriptHead(chunk, `'${path}'`);
      first = false;
      collapser.push(chunk);
    }
  } finally {
    closeSync(fd);
  }
  return finish(collapser, options, `'${path}'`);
}

/**
 * Collapses a perf script text file on every core available (one part of the file each), or
 * in one piece when it is small; the result is the same either way.
 */
export async function collapsePerfScriptFileParallel(path: string, options: CollapseOptions = {}, tuning: ParallelTuning = {}): Promise<CollapseResult> {
  const collapser = await collapseFileInParallel(path, options, tuning);
  if (!collapser) return collapsePerfScriptFile(path, options);
  return finish(collapser, options, `'${path}'`, true);
}

/** Collapses perf script text from a stream (stdin, a child's stdout, an async iterable). */
export async function collapsePerfScriptStream(
  source: AsyncIterable<Uint8Array | string>,
  options: CollapseOptions = {},
  what = "The input",
): Promise<CollapseResult> {
  const collapser = new PerfScriptCollapser(options);
  let first = true;
  for await (const chunk of source) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
    if (bytes.length === 0) continue;
    if (first) checkPerfScriptHead(bytes, what);
    first = false;
    collapser.push(bytes);
  }
  return finish(collapser, options, what);
}
