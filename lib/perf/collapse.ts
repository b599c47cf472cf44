/**
 * A streaming `perf script` → folded stacks collapser with the output of stackcollapse-perf.pl,
 * byte for byte. Memory grows with the number of distinct frames and stacks, not with the input.
 *
 * Speed comes from doing as little per line as possible: input bytes are decoded once per chunk
 * as latin1 (a memcpy), a call-chain line is looked up in a cache keyed by its text from the pc
 * onwards (hashed on the pc digits, confirmed with a native `startsWith`), and a sample's stack
 * is a sequence of small integers hashed into an open-addressing table. Names are only built for
 * cache misses and, at the end, for each distinct stack.
 */
import { frameNames, parseStackLine, type FrameAnnotations } from "./stack-line.js";
import { scanEventName, scanEventRecord, type EventNameScan, type EventRecordScan } from "./event-line.js";
import { FoldedStacks } from "../flamegraph/folded.js";
import { growInt32, rehash, StackTable } from "./stack-table.js";

export interface CollapseOptions {
  /** Include the PID with the process name ("dd-1234"). */
  pid?: boolean;
  /** Include PID and TID with the process name ("dd-1234/1235"). */
  tid?: boolean;
  /** Annotate kernel frames with `_[k]`. */
  kernel?: boolean;
  /** Annotate JIT frames with `_[j]`. */
  jit?: boolean;
  /** Both annotations (`--kernel --jit`). */
  all?: boolean;
  /** Show the address of frames whose symbol is unknown. */
  addrs?: boolean;
  /** Only samples of this event; by default the first event seen (perf can record several). */
  eventFilter?: string;
  /**
   * Count a final sample that has no blank line after it (a cut-off capture).
   * stackcollapse-perf.pl drops it; so does the default here, to give identical output.
   */
  keepTruncated?: boolean;
}

export interface CollapseStats {
  /** Lines read. */
  lines: number;
  /** Samples counted (after the event filter). */
  samples: number;
  /** Sample headers skipped by the event filter. */
  filteredSamples: number;
  /** The event the collapser kept ("cpu-clock"), once known. */
  event?: string;
  /** Every event name seen, with its number of samples. */
  events: Map<string, number>;
  /** Lines that are neither comments, sample headers, stack lines nor blank. */
  unrecognizedLines: number;
  /** The first such line and its 1-based number, for error messages. */
  firstUnrecognized?: { line: number; text: string };
  /** True when the input ended inside a sample (no blank line after its stack). */
  truncatedFinalStack: boolean;
  bytes: number;
}

const NOT_PARSED = -2;
const NO_FRAME = -1;
const UNRECOGNIZED = -3;
const INITIAL_TABLE_BITS = 14;

/** Feed chunks of `perf script` output with push(), then call end() for the folded stacks. */
export class PerfScriptCollapser {
  private readonly annotate: FrameAnnotations;
  private readonly includePid: boolean;
  private readonly includeTid: boolean;
  private readonly keepTruncated: boolean;
  private eventFilter: string;
  private carry: Buffer | undefined;

  // Call-chain line cache: line text (from the pc) → parsed line, and its names per java-ness.
  private lineKeys: string[] = [];
  private lineParsed: (ReturnType<typeof parseStackLine>)[] = [];
  private lineGroup = new Int32Array(1024);
  private lineGroupJava = new Int32Array(1024);
  private lineTable = new Int32Array(1 << INITIAL_TABLE_BITS).fill(-1);
  private lineHashes = new Int32Array(1024);

  // Frame groups (the ";"-joined names of one line) and process names, interned.
  private groupIds = new Map<string, number>();
  private groups: string[] = [];
  private pnameIds = new Map<string, number>();
  private pnames: string[] = [];
  /** Header text up to the pid/tid → process name id: one lookup per sample. */
  private pnameByHead = new Map<string, number>();
  private readonly record: EventRecordScan = { commEnd: 0, pidStart: 0, pidEnd: 0, tidStart: 0, tidEnd: 0 };
  private readonly eventName: EventNameScan = { eventStart: 0, eventEnd: 0, periodStart: 0, periodEnd: 0 };
  private filterEventSamples = 0;
  private otherEvents = new Map<string, number>();

  private readonly stacks = new StackTable();

  // The sample being read.
  private pnameId = -1;
  private pnameJava = false;
  private period = 1;
  private frames = new Int32Array(256);
  private frameCount = 0;
  private inSample = false;

  readonly stats: CollapseStats = {
    lines: 0,
    samples: 0,
    filteredSamples: 0,
    events: new Map(),
    unrecognizedLines: 0,
    truncatedFinalStack: false,
    bytes: 0,
  };

  constructor(options: CollapseOptions = {}) {
    this.annotate = {
      kernel: Boolean(options.kernel || options.all),
      jit: Boolean(options.jit || options.all),
      addrs: Boolean(options.addrs),
    };
    this.includePid = Boolean(options.pid);
    this.includeTid = Boolean(options.tid);
    this.keepTruncated = Boolean(options.keepTruncated);
    this.eventFilter = options.eventFilter ?? "";
  }

  /** Adds a chunk of input. Lines may span chunks. */
  push(chunk: Uint8Array): void {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.stats.bytes += buf.length;
    let from = 0;
    if (this.carry) {
      // Finish the line cut at the end of the previous chunk without copying this whole chunk.
      const nl = buf.indexOf(10);
      if (nl < 0) {
        this.carry = Buffer.concat([this.carry, buf]);
        return;
      }
      const line = Buffer.concat([this.carry, buf.subarray(0, nl + 1)]);
      this.carry = undefined;
      this.stats.lines = this.processLines(line.toString("latin1"), this.stats.lines);
      from = nl + 1;
    }
    const last = buf.lastIndexOf(10);
    if (last < from) {
      if (from < buf.length) this.carry = Buffer.from(buf.subarray(from));
      return;
    }
    if (last + 1 < buf.length) this.carry = Buffer.from(buf.subarray(last + 1));
    if (last + 1 > from) this.stats.lines = this.processLines(buf.toString("latin1", from, last + 1), this.stats.lines);
  }

  /** Finishes the input and returns the folded stacks. */
  end(): FoldedStacks {
    if (this.carry) {
      // The last line had no newline: it still counts, as Perl reads it as a line.
      this.stats.lines = this.processLines(this.carry.toString("latin1") + "\n", this.stats.lines);
      this.carry = undefined;
    }
    if (this.inSample && this.pnameId >= 0) {
      this.stats.truncatedFinalStack = true;
      if (this.keepTruncated) this.finishSample();
    }
    if (this.eventFilter !== "") {
      this.stats.event = this.eventFilter;
      this.stats.events = new Map([[this.eventFilter, this.filterEventSamples], ...this.otherEvents]);
    }
    for (const count of this.otherEvents.values()) this.stats.filteredSamples += count;
    return this.buildFolded();
  }

  /**
   * Processes whole lines (`text` ends with "\n"); returns the line count so far. It touches
   * no other state after its loop: V8 compiles this loop on stack (OSR), and a statement after
   * it that never ran before deoptimized the code at the end of every chunk.
   */
  private processLines(text: string, linesBefore: number): number {
    const length = text.length;
    let pos = 0;
    let lines = linesBefore;
    while (pos < length) {
      lines++;
      const c0 = text.charCodeAt(pos);
      if (c0 === 9 || c0 === 32) {
        pos = this.stackLine(text, pos, lines) + 1;
      } else if (c0 === 10) {
        this.blankLine();
        pos++;
      } else {
        const nl = text.indexOf("\n", pos);
        if (c0 !== 35 /* # */) {
          if (scanEventRecord(text, pos, nl, this.record)) this.sampleHeader(text, pos, nl);
          else this.stackLine(text, pos, lines);
        }
        pos = nl + 1;
      }
    }
    return lines;
  }

  private blankLine(): void {
    if (this.pnameId < 0) return; // a filtered sample, or stray blank lines
    this.finishSample();
    this.pnameId = -1;
    this.frameCount = 0;
    this.inSample = false;
  }

  private sampleHeader(text: string, pos: number, end: number): void {
    const event = this.eventName;
    let periodText = "";
    if (scanEventName(text, pos, end, event)) {
      const length = event.eventEnd - event.eventStart;
      const filter = this.eventFilter;
      if (length !== filter.length || text.substring(event.eventStart, event.eventEnd) !== filter) {
        const name = detach(text.slice(event.eventStart, event.eventEnd));
        if (filter === "") {
          // Only the first event type by default: adding cycles to instructions means nothing.
          this.eventFilter = name;
        } else {
          this.otherEvents.set(name, (this.otherEvents.get(name) ?? 0) + 1);
          return;
        }
      }
      this.filterEventSamples++;
      if (event.periodEnd > event.periodStart) periodText = text.substring(event.periodStart, event.periodEnd);
    }
    // Perl's `not $period`: no digits, or "0", count as one sample.
    this.period = periodText === "" || periodText === "0" ? 1 : Number(periodText);
    const record = this.record;
    const idEnd = record.tidEnd;
    const headKey = text.substring(pos, idEnd);
    let id = this.pnameByHead.get(headKey);
    if (id === undefined) {
      id = this.internPname(text, pos);
      this.pnameByHead.set(detach(headKey), id);
    }
    this.pnameId = id;
    this.pnameJava = this.pnames[id] === "java";
    this.inSample = true;
  }

  /** The process name of the header in `record`, as stackcollapse-perf.pl builds it. */
  private internPname(text: string, pos: number): number {
    const record = this.record;
    const comm = text.slice(pos, record.commEnd);
    let pid = text.slice(record.pidStart, record.pidEnd);
    let tid = text.slice(record.tidStart, record.tidEnd);
    // A lone number is the TID (perf script's default fields); Perl treats "0" as no TID too.
    if (tid === "" || tid === "0") {
      tid = pid;
      pid = "?";
    }
    let pname = this.includeTid ? `${comm}-${pid}/${tid}` : this.includePid ? `${comm}-${pid}` : comm;
    pname = detach(pname.replaceAll(" ", "_"));
    let id = this.pnameIds.get(pname);
    if (id === undefined) {
      id = this.pnames.length;
      this.pnames.push(pname);
      this.pnameIds.set(pname, id);
    }
    return id;
  }

  /**
   * A call-chain line starting at `pos`, possibly indented; returns the index of its "\n".
   * A line seen before is recognised by hashing its pc and comparing the rest in place, so the
   * newline is found without scanning for it.
   */
  private stackLine(text: string, pos: number, lineNumber: number): number {
    let p = pos;
    let c = text.charCodeAt(p);
    while (c === 32 || c === 9 || c === 11 || c === 12 || c === 13) c = text.charCodeAt(++p);
    const start = p;
    let h = 0x811c9dc5;
    while (c > 32) {
      h = Math.imul(h ^ c, 0x01000193);
      c = text.charCodeAt(++p);
    }
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
    h ^= h >>> 13;
    const keys = this.lineKeys;
    const hashes = this.lineHashes;
    const table = this.lineTable;
    const mask = table.length - 1;
    let slot = h & mask;
    let entry: number;
    let end: number;
    for (;;) {
      entry = table[slot]!;
      if (entry < 0) {
        end = text.indexOf("\n", p);
        entry = this.addLine(detach(text.slice(start, end)), h, slot);
        break;
      }
      if (hashes[entry] === h) {
        const key = keys[entry]!;
        end = start + key.length;
        // substring + === is a memcmp in V8, much faster than startsWith or a JS loop.
        if (text.charCodeAt(end) === 10 && text.substring(start, end) === key) break;
      }
      slot = (slot + 1) & mask;
    }
    let group = this.pnameJava ? this.lineGroupJava[entry]! : this.lineGroup[entry]!;
    if (group === UNRECOGNIZED) {
      this.unrecognized(text, pos, end, lineNumber);
      return end;
    }
    if (this.pnameId < 0) return end; // filtered sample
    if (group === NOT_PARSED) group = this.computeGroup(entry);
    if (group === NO_FRAME) return end;
    if (this.frameCount === this.frames.length) {
      const grown = new Int32Array(this.frames.length * 2);
      grown.set(this.frames);
      this.frames = grown;
    }
    this.frames[this.frameCount++] = group;
    return end;
  }

  private addLine(key: string, hash: number, slot: number): number {
    const entry = this.lineKeys.length;
    this.lineKeys.push(key);
    this.lineParsed.push(parseStackLine(key));
    if (entry === this.lineGroup.length) {
      this.lineGroup = growInt32(this.lineGroup, NOT_PARSED);
      this.lineGroupJava = growInt32(this.lineGroupJava, NOT_PARSED);
      this.lineHashes = growInt32(this.lineHashes, 0);
    }
    const state = this.lineParsed[entry] ? NOT_PARSED : UNRECOGNIZED;
    this.lineGroup[entry] = state;
    this.lineGroupJava[entry] = state;
    this.lineHashes[entry] = hash;
    this.lineTable[slot] = entry;
    if (this.lineKeys.length * 2 > this.lineTable.length) this.lineTable = rehash(this.lineTable, this.lineHashes, this.lineKeys.length);
    return entry;
  }

  private computeGroup(entry: number): number {
    const names = frameNames(this.lineParsed[entry]!, this.pnameJava, this.annotate);
    let group = NO_FRAME;
    if (names !== "") {
      const known = this.groupIds.get(names);
      if (known !== undefined) group = known;
      else {
        group = this.groups.length;
        this.groups.push(names);
        this.groupIds.set(names, group);
      }
    }
    if (this.pnameJava) this.lineGroupJava[entry] = group;
    else this.lineGroup[entry] = group;
    return group;
  }

  private unrecognized(text: string, pos: number, end: number, lineNumber: number): void {
    this.stats.unrecognizedLines++;
    if (!this.stats.firstUnrecognized) {
      this.stats.firstUnrecognized = { line: lineNumber, text: detach(text.slice(pos, Math.min(end, pos + 200))) };
    }
  }

  /** Adds the current sample's stack to the table. */
  private finishSample(): void {
    this.stats.samples++;
    this.stacks.add(this.pnameId, this.frames, this.frameCount, this.period);
  }

  private buildFolded(): FoldedStacks {
    const folded = new FoldedStacks();
    const parts: string[] = [];
    this.stacks.forEach((root, frames, count) => {
      parts.length = 0;
      parts.push(this.pnames[root]!);
      for (let i = frames.length - 1; i >= 0; i--) parts.push(this.groups[frames[i]!]!);
      // Different line sequences can fold to the same text (e.g. "a->b" inlined vs two
      // frames), so stacks are merged again by their text.
      folded.add(parts.join(";"), count);
    });
    return folded;
  }
}

/**
 * A copy of a string that does not point into the chunk it was cut from. V8 substrings share
 * their parent, so any substring kept in a table would keep a whole input chunk alive (memory
 * would grow with the input); comparing two slices is also slower than a slice with a flat string.
 */
function detach(s: string): string {
  return Buffer.from(s, "latin1").toString("latin1");
}
