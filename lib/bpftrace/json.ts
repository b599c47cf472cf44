/**
 * Parser for `bpftrace -f json` output (bpftrace 0.17; see types.ts for the record formats). It
 * works on a whole string or as a stream fed chunk by chunk while bpftrace runs, so printf output
 * reaches the caller as it happens. A line that is not a valid record is an error naming the line
 * (strict) or a problem kept beside the records (lenient, used for live runs where bpftrace may be
 * killed mid-line).
 */
import { BpftraceOutputError } from "./errors.js";
import { parseMapKey, parseNewlineEscapedKey } from "./keys.js";
import { scanMapLine, type ScannedBody, type ScannedPair } from "./scan.js";
import type {
  BpftraceMap,
  BpftraceRecord,
  BpftraceValue,
  HistogramBucket,
  MapEntry,
  ParseProblem,
  StatsValue,
  TextSource,
} from "./types.js";

export interface ParseOptions {
  /** Throw a BpftraceOutputError on the first bad line (default) or keep going and report it. */
  strict?: boolean;
}

/** Parses complete JSON output into records; problems are returned when not strict. */
export function parseJsonRecords(text: string, options: ParseOptions = {}): { records: BpftraceRecord[]; problems: ParseProblem[] } {
  const records: BpftraceRecord[] = [];
  const stream = new BpftraceJsonStream((r) => records.push(r), options);
  stream.push(text);
  stream.end();
  return { records, problems: stream.problems };
}

/** Line-oriented incremental parser: push() text as it arrives, end() when the output closes. */
export class BpftraceJsonStream {
  readonly problems: ParseProblem[] = [];
  private pending: string[] = [];
  private lineNumber = 0;
  private readonly strict: boolean;

  constructor(
    private readonly onRecord: (record: BpftraceRecord) => void,
    options: ParseOptions = {},
  ) {
    this.strict = options.strict ?? true;
  }

  push(chunk: string): void {
    // Chunks without a newline are only collected: a 40 MB map line arrives in hundreds of
    // chunks, and searching the growing line again for each one would be quadratic.
    const nl = chunk.indexOf("\n");
    if (nl < 0) {
      if (chunk) this.pending.push(chunk);
      return;
    }
    this.pending.push(chunk.slice(0, nl));
    this.line(this.pending.length === 1 ? this.pending[0]! : this.pending.join(""));
    this.pending = [];
    let start = nl + 1;
    for (;;) {
      const next = chunk.indexOf("\n", start);
      if (next < 0) break;
      this.line(chunk.slice(start, next));
      start = next + 1;
    }
    if (start < chunk.length) this.pending.push(chunk.slice(start));
  }

  /** Flushes the last line; a line without its newline is parsed too (and reported if cut off). */
  end(): void {
    if (this.pending.length) {
      const last = this.pending.join("");
      this.pending = [];
      this.line(last);
    }
  }

  private line(raw: string): void {
    this.lineNumber++;
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() === "") return;
    let records: BpftraceRecord[];
    try {
      const scanned = scanMapLine(line);
      if (scanned) {
        records = [{ type: "map", map: toMap(scanned.type, scanned.name, scanned.body) }];
      } else {
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch (error) {
          this.problem(`not valid JSON (${(error as Error).message})`, line);
          return;
        }
        records = recordsFromJson(parsed);
      }
    } catch (error) {
      if (!(error instanceof RecordShapeError)) throw error;
      this.problem(error.message, line);
      return;
    }
    for (const record of records) this.onRecord(record);
  }

  private problem(message: string, line: string): void {
    if (this.strict) throw new BpftraceOutputError(this.lineNumber, message, line, "json");
    this.problems.push({ line: this.lineNumber, message });
  }
}

class RecordShapeError extends Error {}

function fail(message: string): never {
  throw new RecordShapeError(message);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const TEXT_TYPES = new Set<string>(["printf", "time", "join", "cat", "syscall"]);

/** Converts one parsed JSON line into records (a map record may, in principle, hold several maps). */
export function recordsFromJson(json: unknown): BpftraceRecord[] {
  if (!isObject(json)) fail("a record must be a JSON object");
  const type = json.type;
  if (typeof type !== "string") fail('a record needs a string "type" field');
  const data = json.data;
  if (TEXT_TYPES.has(type)) {
    if (typeof data !== "string") fail(`a ${type} record needs a string in "data"`);
    return [{ type: "text", source: type as TextSource, text: data }];
  }
  switch (type) {
    case "attached_probes":
      return [{ type: "attached_probes", probes: numberField(data, "probes", type) }];
    case "lost_events":
      return [{ type: "lost_events", events: numberField(data, "events", type) }];
    case "value":
      return [{ type: "value", value: toValue(data) }];
    case "helper_error":
      return [
        {
          type: "helper_error",
          helper: typeof json.helper === "string" ? json.helper : "?",
          retcode: typeof json.retcode === "number" ? json.retcode : NaN,
          line: typeof json.line === "number" ? json.line : undefined,
          column: typeof json.col === "number" ? json.col : undefined,
        },
      ];
    case "map":
    case "hist":
    case "stats":
      if (!isObject(data)) fail(`a ${type} record needs an object in "data"`);
      return Object.keys(data).map((name) => ({ type: "map", map: toMap(type, name, bodyOf(data[name])) }));
    default:
      return [{ type: "unknown", recordType: type, data }];
  }
}

function numberField(data: unknown, field: string, type: string): number {
  if (!isObject(data) || typeof data[field] !== "number") fail(`a ${type} record needs a number in data.${field}`);
  return data[field] as number;
}

function toValue(value: unknown): BpftraceValue {
  if (typeof value === "number" || typeof value === "string") return value;
  if (Array.isArray(value)) return value.map(toValue);
  if (isObject(value)) {
    const out: { [field: string]: BpftraceValue } = {};
    for (const [k, v] of Object.entries(value)) out[k] = toValue(v);
    return out;
  }
  return fail(`unexpected value ${JSON.stringify(value)} (bpftrace prints numbers, strings, tuples and structs)`);
}

/** A map's body from JSON.parse: an object of key → value (order and repeats lost) or one value. */
function bodyOf(value: unknown): ScannedBody {
  return isObject(value) ? { kind: "pairs", pairs: Object.entries(value) } : { kind: "value", value };
}

function toMap(type: "map" | "hist" | "stats", name: string, body: ScannedBody): BpftraceMap {
  if (type === "hist") {
    const entries = body.kind === "value" ? [{ key: null, value: toBuckets(body.value) }] : keyed(body.pairs, toBuckets);
    return { kind: "histogram", name, scale: inferScale(entries), entries };
  }
  if (type === "stats") {
    // An unkeyed stats() map prints {"count", "average", "total"}; avg() prints a number.
    const unkeyed = body.kind === "value" || isStatsPairs(body.pairs);
    const entries =
      body.kind === "value" ? [{ key: null, value: toStats(body.value) }] : unkeyed ? [{ key: null, value: toStats(Object.fromEntries(body.pairs)) }] : keyed(body.pairs, toStats);
    return { kind: "stats", name, entries };
  }
  // A map without keys prints its value directly; with keys, an object of key → value.
  const entries: MapEntry<BpftraceValue>[] = body.kind === "value" ? [{ key: null, value: toValue(body.value) }] : keyed(body.pairs, toValue);
  return { kind: "values", name, entries };
}

function keyed<V>(pairs: ScannedPair[], convert: (v: unknown) => V): MapEntry<V>[] {
  const entries: MapEntry<V>[] = new Array(pairs.length);
  for (let i = 0; i < pairs.length; i++) {
    const [key, value, escaped] = pairs[i]!;
    entries[i] = { key: escaped ? parseNewlineEscapedKey(key) : parseMapKey(key), value: convert(value) };
  }
  return entries;
}

function toBuckets(value: unknown): HistogramBucket[] {
  if (!Array.isArray(value)) fail("a histogram must be an array of buckets");
  return value.map((b) => {
    if (!isObject(b) || typeof b.count !== "number") fail("a histogram bucket needs a number in count");
    const bucket: HistogramBucket = { count: b.count };
    if (typeof b.min === "number") bucket.min = b.min;
    if (typeof b.max === "number") bucket.max = b.max;
    return bucket;
  });
}

function isStatsPairs(pairs: ScannedPair[]): boolean {
  return pairs.length === 3 && isStatsObject(Object.fromEntries(pairs.map((p) => [p[0], p[1]])));
}

function isStatsObject(value: unknown): boolean {
  return isObject(value) && typeof value.count === "number" && typeof value.average === "number" && typeof value.total === "number";
}

function toStats(value: unknown): StatsValue {
  if (typeof value === "number") return { average: value };
  if (!isStatsObject(value)) fail("a stats value needs count, average and total numbers (or a number for avg())");
  const v = value as { count: number; average: number; total: number };
  return { count: v.count, average: v.average, total: v.total };
}

/** hist() buckets are [2^k, 2^(k+1)-1] plus the (…,-1], [0], [1] buckets; anything else is lhist(). */
export function inferScale(entries: MapEntry<HistogramBucket[]>[]): "log2" | "linear" {
  for (const { value } of entries) {
    for (const b of value) {
      if (b.min === undefined) {
        if (b.max !== -1) return "linear";
        continue;
      }
      if (b.max === undefined) return "linear";
      // bpftrace 0.17 prints an overflowed top bucket as {"min": -2147483648, "max": 0}; skip it.
      if (b.min < 0 || b.min > b.max) continue;
      if (b.min === 0 && b.max === 0) continue;
      const isPow2 = b.min >= 1 && Number.isInteger(Math.log2(b.min));
      if (!isPow2 || b.max !== (b.min === 1 ? 1 : b.min * 2 - 1)) return "linear";
    }
  }
  return "log2";
}
