/**
 * What kind of profile input a file or stream holds (perf.data, `perf script` text, folded
 * stacks), and the errors for input that is none of them: empty, binary, or text whose first
 * unparsable line is named.
 */
import { UsageError } from "../errors/index.js";
import { parseFoldedLine } from "../flamegraph/folded.js";
import type { CollapseStats } from "./collapse.js";
import { scanEventRecord, type EventRecordScan } from "./event-line.js";

export type ProfileInputKind = "perf-data" | "perf-script" | "folded";

/** perf.data starts with the magic "PERFILE2" (as a little- or big-endian u64). */
export function isPerfData(head: Uint8Array): boolean {
  const magic = Buffer.from(head.subarray(0, 8)).toString("latin1");
  return magic === "PERFILE2" || magic === "2ELIFREP";
}

/** True for bytes that are not text: NULs, or mostly control characters. */
export function isBinary(head: Uint8Array): boolean {
  const sample = head.subarray(0, 65536);
  let control = 0;
  for (const b of sample) {
    if (b === 0) return true;
    if (b < 32 && b !== 9 && b !== 10 && b !== 13 && b !== 12 && b !== 11) control++;
  }
  return sample.length > 0 && control / sample.length > 0.05;
}

function preview(text: string): string {
  const shown = text.length > 120 ? `${text.slice(0, 120)}…` : text;
  return JSON.stringify(shown);
}

/** Throws a UsageError when the first bytes show the input cannot be perf script text. */
export function checkPerfScriptHead(head: Uint8Array, what = "The input"): void {
  if (isPerfData(head)) {
    throw new UsageError(`${what} is a perf.data file (binary), not perf script text.`, {
      hint: "Run 'perf script -i FILE | kbook collapse', or 'kbook flamegraph FILE', which runs perf script itself.",
    });
  }
  if (isBinary(head)) {
    const hex = Buffer.from(head.subarray(0, 16)).toString("hex").replace(/(..)/g, "$1 ").trim();
    throw new UsageError(`${what} is binary data, not perf script text (it starts with bytes ${hex}).`, {
      hint: "Give the text output of 'perf script'.",
    });
  }
}

/** The error for a collapse that found no samples, or undefined when there were samples. */
export function collapseProblem(stats: CollapseStats, eventFilter?: string, what = "The input"): UsageError | undefined {
  if (stats.samples > 0) return undefined;
  if (stats.bytes === 0) {
    return new UsageError(`${what} is empty: there is no perf script output to collapse.`, {
      hint: "Record with 'perf record -g', then pipe 'perf script' into kbook collapse.",
    });
  }
  if (stats.firstUnrecognized) {
    const { line, text } = stats.firstUnrecognized;
    return new UsageError(`${what} is not perf script output: line ${line} did not parse: ${preview(text)}.`, {
      hint: "kbook collapse reads the text that 'perf script' prints: a header line per sample ('comm pid time: event:') followed by indented call-chain lines.",
    });
  }
  if (eventFilter && stats.filteredSamples > 0) {
    const seen = [...stats.events.entries()].filter(([, n]) => n > 0).map(([e, n]) => `${e} (${n})`).join(", ");
    return new UsageError(`No samples of event '${eventFilter}' in ${what.toLowerCase()}.`, { hint: `The events present are: ${seen}.` });
  }
  return new UsageError(`${what} has no perf samples (only comments or blank lines).`, {
    hint: "Record with 'perf record -g', then run 'perf script'.",
  });
}

/** Non-fatal remarks about a collapse that did find samples. */
export function collapseWarnings(stats: CollapseStats): string[] {
  const warnings: string[] = [];
  if (stats.unrecognizedLines > 0 && stats.firstUnrecognized) {
    const { line, text } = stats.firstUnrecognized;
    warnings.push(`${stats.unrecognizedLines} line(s) were not perf script output and were skipped; the first is line ${line}: ${preview(text)}.`);
  }
  if (stats.filteredSamples > 0) {
    const others = [...stats.events.entries()].filter(([e]) => e !== stats.event).map(([e, n]) => `${e} (${n})`).join(", ");
    warnings.push(`Only samples of event '${stats.event}' were kept; skipped: ${others}. Choose with --event-filter.`);
  }
  if (stats.truncatedFinalStack) {
    warnings.push("The input ends inside a sample (no blank line after its stack); that sample was left out, as stackcollapse-perf.pl does (--keep-truncated counts it).");
  }
  return warnings;
}

/**
 * Guesses the kind of text input from its first lines: an indented call-chain line or a sample
 * header means perf script; "frames COUNT" lines mean folded stacks.
 */
export function detectTextKind(head: string): ProfileInputKind | undefined {
  const record: EventRecordScan = { commEnd: 0, pidStart: 0, pidEnd: 0, tidStart: 0, tidEnd: 0 };
  let folded = 0;
  let header = 0;
  let checked = 0;
  for (const line of head.split("\n").slice(0, 200)) {
    if (line === "" || line.startsWith("#")) continue;
    checked++;
    if (/^[\t ]+[0-9a-fA-F]+ .* \(.*\)/.test(line)) return "perf-script";
    if (scanEventRecord(Buffer.from(line, "latin1"), 0, line.length, record) && /:\s*$|: /.test(line)) header++;
    else if (parseFoldedLine(line)) folded++;
    if (checked >= 50) break;
  }
  if (header > 0 && header >= folded) return "perf-script";
  if (folded > 0) return "folded";
  return undefined;
}
