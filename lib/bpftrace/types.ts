/**
 * The typed form of what bpftrace prints. bpftrace 0.17's `-f json` writes one record a line:
 *
 *   {"type": "attached_probes", "data": {"probes": 2}}
 *   {"type": "printf", "data": "text"}             (also "time", "join", "cat", "syscall")
 *   {"type": "value", "data": 123}                 (print() of a non-map value)
 *   {"type": "map", "data": {"@c": 49}}            (a map without keys)
 *   {"type": "map", "data": {"@": {"\n    f+1\n    g+2\n": 3}}}
 *   {"type": "hist", "data": {"@h": [{"min": 4, "max": 7, "count": 2}, ...]}}   (hist and lhist)
 *   {"type": "stats", "data": {"@s": {"count": 49, "average": 0, "total": 0}}}  (avg(): a number)
 *   {"type": "lost_events", "data": {"events": 3}}
 *   {"type": "helper_error", "helper": "…", "retcode": -2, "line": 1, "col": 5}
 *
 * Keys of keyed maps are one string: the map's key arguments joined with ",", where a kstack or
 * ustack argument is "\n" followed by one line per frame, indented (4 spaces, or "\t<addr> " in
 * perf stack mode). The text format prints the same keys between `@name[` and `]: `, with ", "
 * between arguments.
 */

/** A value printed by bpftrace: integer, string (also stacks, symbols), tuple, or struct. */
export type BpftraceValue = number | string | BpftraceValue[] | { [field: string]: BpftraceValue };

/** One argument of a map key: a stack (frames leaf first) or any other value, as printed. */
export type MapKeyPart = { kind: "stack"; frames: string[] } | { kind: "value"; text: string };

export interface MapKey {
  /** The key exactly as bpftrace printed it. */
  text: string;
  /** The key split around stack arguments (other arguments stay together as printed). */
  parts: MapKeyPart[];
}

export interface HistogramBucket {
  /** Lowest value in the bucket; absent for the "less than" bucket. */
  min?: number;
  /** Highest value in the bucket; absent for lhist's "at least max" bucket. */
  max?: number;
  count: number;
}

export interface StatsValue {
  /** avg() maps print only the average; stats() maps print all three. */
  count?: number;
  average: number;
  total?: number;
}

export interface MapEntry<V> {
  /** null for a map without keys (`@x = count()`). */
  key: MapKey | null;
  value: V;
}

interface MapBase {
  /** The map's name, with its "@" (the unnamed map is "@"). */
  name: string;
}

export interface ValuesMap extends MapBase {
  kind: "values";
  entries: MapEntry<BpftraceValue>[];
}

export interface HistogramMap extends MapBase {
  kind: "histogram";
  /** hist() buckets are powers of two, lhist() buckets are linear; inferred from the buckets. */
  scale: "log2" | "linear";
  entries: MapEntry<HistogramBucket[]>[];
}

export interface StatsMap extends MapBase {
  kind: "stats";
  entries: MapEntry<StatsValue>[];
}

export type BpftraceMap = ValuesMap | HistogramMap | StatsMap;

/** Where printed text came from: printf(), time(), join(), cat() or system(). */
export type TextSource = "printf" | "time" | "join" | "cat" | "syscall";

export type BpftraceRecord =
  | { type: "attached_probes"; probes: number }
  | { type: "text"; source: TextSource; text: string }
  | { type: "value"; value: BpftraceValue }
  | { type: "map"; map: BpftraceMap }
  | { type: "lost_events"; events: number }
  | { type: "helper_error"; helper: string; retcode: number; line?: number; column?: number }
  /** A record type this parser does not know (a newer bpftrace); kept, not dropped. */
  | { type: "unknown"; recordType: string; data: unknown };

/** A problem found while parsing, kept when parsing leniently. */
export interface ParseProblem {
  /** 1-based line number in the input. */
  line: number;
  message: string;
}
