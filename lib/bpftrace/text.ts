/**
 * Parser for bpftrace's default text output, so outputs pasted from articles and saved logs load
 * as typed maps too. bpftrace 0.17 prints (see output.cpp's TextOutput):
 *
 *   Attaching 2 probes...
 *   @c: 49                                   a map without keys
 *   @str[swapper/0]: 49                      keys between [ and ]: , arguments joined by ", "
 *   @sk[a]: count 1, average 5, total 5      stats()
 *   @[                                       a stack key: one indented frame a line
 *       task_tick_fair+1
 *       scheduler_tick+176
 *   ]: 171
 *   @h:                                      hist()/lhist(): one bucket a line, blank line after
 *   [4, 8)                 2 |@@@@@     |
 *   Lost 3 events
 *
 * Anything else is printed text (printf, time, join…). The text loses some types (avg() looks
 * like a plain number, tuples stay text); the JSON format keeps them.
 */
import { BpftraceOutputError } from "./errors.js";
import { inferScale, type ParseOptions } from "./json.js";
import { parseMapKey } from "./keys.js";
import type { BpftraceMap, BpftraceRecord, BpftraceValue, HistogramBucket, MapEntry, MapKey, ParseProblem, StatsValue } from "./types.js";

const MAP_START = /^(@[A-Za-z_0-9]*)(\[|: ?)/;
const BUCKET = /^(\(\.\.\., (-?\d+[kKMGT]?)\)|\[(-?\d+[kKMGT]?)\]|\[(-?\d+[kKMGT]?), (-?\d+[kKMGT]?|\.\.\.)\))\s+(\d+) \|/;
const STATS = /^count (-?\d+), average (-?\d+), total (-?\d+)$/;
const INTEGER = /^-?\d+$/;

type Entry =
  | { kind: "values"; key: MapKey | null; value: BpftraceValue }
  | { kind: "histogram"; key: MapKey | null; value: HistogramBucket[] }
  | { kind: "stats"; key: MapKey | null; value: StatsValue };

/** Parses bpftrace text output into records. */
export function parseTextRecords(text: string, options: ParseOptions = {}): { records: BpftraceRecord[]; problems: ParseProblem[] } {
  const strict = options.strict ?? true;
  const lines = text.split("\n");
  if (lines.length && lines[lines.length - 1] === "") lines.pop();
  const records: BpftraceRecord[] = [];
  const problems: ParseProblem[] = [];
  let current: BpftraceMap | undefined;
  const closeMap = (): void => {
    if (current) records.push({ type: "map", map: current });
    current = undefined;
  };

  let i = 0;
  while (i < lines.length) {
    const line = stripCr(lines[i]!);
    const start = MAP_START.exec(line);
    if (start) {
      const parsed = parseEntry(lines, i, start);
      if ("error" in parsed) {
        if (strict) throw new BpftraceOutputError(i + 1, parsed.error, line, "text");
        problems.push({ line: i + 1, message: parsed.error });
        i++;
        continue;
      }
      const name = start[1]!;
      if (!current || current.name !== name || current.kind !== parsed.entry.kind) {
        closeMap();
        current = newMap(name, parsed.entry.kind);
      }
      (current.entries as MapEntry<unknown>[]).push({ key: parsed.entry.key, value: parsed.entry.value });
      i = parsed.next;
      continue;
    }
    if (line === "") {
      i++;
      continue;
    }
    closeMap();
    const attach = /^Attaching (\d+) probes?\.\.\.$/.exec(line);
    const lost = /^Lost (\d+) events$/.exec(line);
    if (attach) records.push({ type: "attached_probes", probes: Number(attach[1]) });
    else if (lost) records.push({ type: "lost_events", events: Number(lost[1]) });
    else records.push({ type: "text", source: "printf", text: `${line}\n` });
    i++;
  }
  closeMap();
  for (const record of records) {
    if (record.type === "map" && record.map.kind === "histogram") record.map.scale = inferScale(record.map.entries);
  }
  return { records, problems };
}

function newMap(name: string, kind: Entry["kind"]): BpftraceMap {
  if (kind === "histogram") return { kind, name, scale: "log2", entries: [] };
  return { kind, name, entries: [] } as BpftraceMap;
}

function stripCr(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}

function isIndented(line: string): boolean {
  return line.startsWith(" ") || line.startsWith("\t");
}

/** Parses the map entry starting at lines[i]; returns it and the index of the next line. */
function parseEntry(lines: string[], i: number, start: RegExpExecArray): { entry: Entry; next: number } | { error: string } {
  const line = stripCr(lines[i]!);
  let rest = line.slice(start[0].length);
  let key: MapKey | null = null;
  let next = i + 1;
  if (start[2] === "[") {
    const close = findKeyEnd(rest);
    if (close >= 0) {
      key = parseMapKey(rest.slice(0, close));
      rest = rest.slice(close + 2).replace(/^ /, "");
    } else {
      // A key that continues over the following lines: stack frames until a line with "]:".
      const keyLines = [rest];
      let j = i + 1;
      for (; j < lines.length; j++) {
        const l = stripCr(lines[j]!);
        if (isIndented(l)) {
          keyLines.push(l);
          continue;
        }
        const end = findKeyEnd(l);
        if (end < 0) return { error: `the key of ${start[1]} starting here is not closed with "]: " (line ${j + 1})` };
        keyLines.push(l.slice(0, end));
        rest = l.slice(end + 2).replace(/^ /, "");
        break;
      }
      if (j >= lines.length) return { error: `the key of ${start[1]} starting here is cut off at the end of the output` };
      key = parseMapKey(keyLines.join("\n"));
      next = j + 1;
    }
  }
  const value = rest;
  if (value === "" || value === " ") {
    const following = next < lines.length ? stripCr(lines[next]!) : "";
    if (BUCKET.test(following)) {
      const buckets: HistogramBucket[] = [];
      while (next < lines.length) {
        const m = BUCKET.exec(stripCr(lines[next]!));
        if (!m) break;
        buckets.push(bucketFromLabel(m));
        next++;
      }
      return { entry: { kind: "histogram", key, value: buckets }, next };
    }
    if (isIndented(following)) {
      // A stack printed as a value (@s = kstack): rebuild the JSON form "\n<frame lines>\n".
      const frames: string[] = [];
      while (next < lines.length && isIndented(stripCr(lines[next]!))) frames.push(stripCr(lines[next++]!));
      return { entry: { kind: "values", key, value: `\n${frames.join("\n")}\n` }, next };
    }
    // An empty histogram or string prints nothing after the colon.
    return { entry: { kind: "values", key, value: "" }, next };
  }
  const stats = STATS.exec(value);
  if (stats) return { entry: { kind: "stats", key, value: { count: Number(stats[1]), average: Number(stats[2]), total: Number(stats[3]) } }, next };
  if (INTEGER.test(value)) return { entry: { kind: "values", key, value: Number(value) }, next };
  return { entry: { kind: "values", key, value }, next };
}

/** Index of the "]:" that ends a key on this line (followed by a space or the end), or -1. */
function findKeyEnd(text: string): number {
  let from = 0;
  for (;;) {
    const at = text.indexOf("]:", from);
    if (at < 0) return -1;
    if (at + 2 === text.length || text[at + 2] === " ") return at;
    from = at + 1;
  }
}

/** Bucket labels: "(..., 0)", "[0]", "[1]", "[4, 8)", "[1K, 2K)", "[10, ...)" (lhist's last bucket). */
function bucketFromLabel(m: RegExpExecArray): HistogramBucket {
  const count = Number(m[6]);
  if (m[2] !== undefined) return { max: labelNumber(m[2]) - 1, count };
  if (m[3] !== undefined) {
    const v = labelNumber(m[3]);
    return { min: v, max: v, count };
  }
  const low = labelNumber(m[4]!);
  if (m[5] === "...") return { min: low, count };
  return { min: low, max: labelNumber(m[5]!) - 1, count };
}

const SUFFIX: Record<string, number> = { k: 2 ** 10, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

function labelNumber(label: string): number {
  const m = /^(-?\d+)([kKMGT]?)$/.exec(label.trim());
  if (!m) return NaN;
  return Number(m[1]) * (m[2] ? SUFFIX[m[2]]! : 1);
}
