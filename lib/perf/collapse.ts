/**
 * A streaming `perf script` → folded stacks collapser with the output of stackcollapse-perf.pl,
 * byte for byte. Memory grows with the number of distinct frames and stacks, not with the input.
 *
 * Speed comes from doing as little per line as possible, on the input bytes themselves (nothing
 * is decoded or copied per line). Call chains repeat, so a call-chain line is first compared, in
 * place and a 32-bit word at a time, with the line that followed the previous line last time;
 * failing that it is hashed a word at a time while its newline is found, and looked up among the
 * distinct lines seen so far. Frame names are computed once per distinct line. A sample's stack
 * is a sequence of small integers hashed into an open-addressing table. Strings are only built
 * for distinct lines and, at the end, for each distinct stack.
 */
import { frameNames, parseStackLine, type FrameAnnotations, type ParsedStackLine, type UnknownNames } from "./stack-line.js";
import { scanEventName, scanEventRecord, type EventNameScan, type EventRecordScan } from "./event-line.js";
import { FoldedStacks } from "../flamegraph/folded.js";
import { StackTable, type StackTableData } from "./stack-table.js";
import { hashBytes, hashLine, LineTable } from "./line-table.js";

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

/** What a collapser found in one part of an input, to be merged into another collapser. */
export interface CollapsePart {
  pnames: string[];
  groups: string[];
  stacks: StackTableData;
  stats: CollapseStats;
  /** The event kept, when one was seen (so that the merge knows it). */
  eventFilter: string;
}

const NOT_PARSED = -2;
const NO_FRAME = -1;
const UNRECOGNIZED = -3;

/** Feed chunks of `perf script` output with push(), then call end() for the folded stacks. */
export class PerfScriptCollapser {
  private readonly annotate: FrameAnnotations;
  private readonly includePid: boolean;
  private readonly includeTid: boolean;
  private readonly keepTruncated: boolean;
  private eventFilter: string;
  private eventFilterBytes: Uint8Array;
  private carry: Buffer | undefined;

  // Distinct call-chain lines (indentation included), with the frame group each
  // gives and the line that followed it last time: call chains repeat, so the next line is most
  // often the one that followed the previous line before, confirmed by one comparison.
  private readonly lines = new LineTable();
  private previousLine = -1;
  private readonly lineHash = { hash: 0 };
  private readonly unknownNames: UnknownNames = new Map();


  // Frame groups (the ";"-joined names of one line) and process names, interned.
  private groupIds = new Map<string, number>();
  private groups: string[] = [];
  private pnameIds = new Map<string, number>();
  private pnames: string[] = [];
  private pnameIsJava: boolean[] = [];
  /** Header bytes up to the pid/tid → process name id (as the entry's group): one lookup per sample. */
  private readonly heads = new LineTable();
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
    this.eventFilterBytes = Buffer.from(this.eventFilter, "latin1");
  }

  /** Adds a chunk of input. Lines may span chunks; the chunk is not kept. */
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
      this.stats.lines = this.processLines(line, viewOf(line), 0, line.length, this.stats.lines);
      from = nl + 1;
    }
    const last = buf.lastIndexOf(10);
    if (last < from) {
      if (from < buf.length) this.carry = Buffer.from(buf.subarray(from));
      return;
    }
    if (last + 1 < buf.length) this.carry = Buffer.from(buf.subarray(last + 1));
    if (last + 1 > from) this.stats.lines = this.processLines(buf, viewOf(buf), from, last + 1, this.stats.lines);
  }

  /** Finishes the input and returns the folded stacks. */
  end(): FoldedStacks {
    this.endInput();
    return this.buildFolded();
  }

  /**
   * Finishes the input and returns what was found, for another collapser to merge() (the
   * parallel file collapser runs one collapser per part of a file).
   */
  endPart(): CollapsePart {
    this.endInput();
    return { pnames: this.pnames, groups: this.groups, stacks: this.stacks.data(), stats: this.stats, eventFilter: this.eventFilter };
  }

  /**
   * Adds a part collapsed by another collapser (with the same options) from the input that
   * follows this one's: its stacks, and its statistics with line numbers shifted by this one's.
   */
  merge(part: CollapsePart): void {
    const pnameMap = part.pnames.map((name) => this.internPnameText(name));
    const groupMap = part.groups.map((names) => this.internGroup(names));
    const { pool, starts, lengths, counts } = part.stacks;
    let frames = new Int32Array(64);
    for (let id = 0; id < starts.length; id++) {
      const start = starts[id]!;
      const n = lengths[id]! - 1;
      if (n > frames.length) frames = new Int32Array(n * 2);
      for (let i = 0; i < n; i++) frames[i] = groupMap[pool[start + 1 + i]!]!;
      this.stacks.add(pnameMap[pool[start]!]!, frames, 0, n, counts[id]!);
    }
    const stats = this.stats;
    const other = part.stats;
    if (!stats.firstUnrecognized && other.firstUnrecognized) {
      stats.firstUnrecognized = { line: stats.lines + other.firstUnrecognized.line, text: other.firstUnrecognized.text };
    }
    stats.lines += other.lines;
    stats.samples += other.samples;
    stats.filteredSamples += other.filteredSamples;
    stats.unrecognizedLines += other.unrecognizedLines;
    stats.truncatedFinalStack = other.truncatedFinalStack;
    stats.bytes += other.bytes;
    for (const [event, count] of other.events) stats.events.set(event, (stats.events.get(event) ?? 0) + count);
    if (stats.event === undefined) stats.event = other.event;
    if (this.eventFilter === "") this.eventFilter = part.eventFilter;
  }

  /** The folded stacks of everything pushed and merged; call after endInput(). */
  folded(): FoldedStacks {
    return this.buildFolded();
  }

  /** Ends the input (a last line without "\n", a cut-off sample): then merge() parts, then folded(). */
  endInput(): void {
    if (this.carry) {
      // The last line had no newline: it still counts, as Perl reads it as a line.
      const line = Buffer.concat([this.carry, Buffer.of(10)]);
      this.carry = undefined;
      this.stats.lines = this.processLines(line, viewOf(line), 0, line.length, this.stats.lines);
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
  }

  /**
   * Processes the whole lines in bytes[from, to) (bytes[to - 1] is "\n"); returns the line count
   * so far. It touches no other state after its loop: V8 compiles this loop on stack (OSR), and
   * a statement after it that never ran before deoptimized the code at the end of every chunk.
   */
  private processLines(bytes: Buffer, view: DataView, from: number, to: number, linesBefore: number): number {
    let pos = from;
    let lines = linesBefore;
    while (pos < to) {
      lines++;
      const c0 = bytes[pos]!;
      if (c0 === 9 || c0 === 32) {
        pos = this.stackLine(bytes, view, pos, to, lines) + 1;
      } else if (c0 === 10) {
        this.blankLine();
        pos++;
      } else {
        const nl = bytes.indexOf(10, pos);
        if (c0 !== 35 /* # */) {
          if (scanEventRecord(bytes, pos, nl, this.record)) this.sampleHeader(bytes, view, pos, nl);
          else this.stackLine(bytes, view, pos, to, lines);
        }
        pos = nl + 1;
      }
    }
    return lines;
  }

  private blankLine(): void {
    this.previousLine = -1;
    if (this.pnameId < 0) return; // a filtered sample, or stray blank lines
    this.finishSample();
    this.pnameId = -1;
    this.frameCount = 0;
    this.inSample = false;
  }

  private sampleHeader(bytes: Buffer, view: DataView, pos: number, end: number): void {
    const event = this.eventName;
    this.previousLine = -1;
    let period = 1;
    if (scanEventName(bytes, pos, end, event)) {
      if (!this.isFilterEvent(bytes, event.eventStart, event.eventEnd)) {
        const name = bytes.toString("latin1", event.eventStart, event.eventEnd);
        if (this.eventFilter === "") {
          // Only the first event type by default: adding cycles to instructions means nothing.
          this.eventFilter = name;
          this.eventFilterBytes = Buffer.from(name, "latin1");
        } else {
          this.otherEvents.set(name, (this.otherEvents.get(name) ?? 0) + 1);
          return;
        }
      }
      this.filterEventSamples++;
      period = periodOf(bytes, event.periodStart, event.periodEnd);
    }
    this.period = period;
    const idEnd = this.record.tidEnd;
    const hash = hashBytes(bytes, pos, idEnd);
    const head = this.heads.find(view, pos, idEnd, hash);
    const id = head >= 0 ? this.heads.group(head, false) : this.internPname(bytes, pos);
    if (head < 0) this.heads.add(bytes, pos, idEnd, hash, id);
    this.pnameId = id;
    this.pnameJava = this.pnameIsJava[id]!;
    this.inSample = true;
  }

  private isFilterEvent(bytes: Buffer, start: number, end: number): boolean {
    const filter = this.eventFilterBytes;
    if (end - start !== filter.length || filter.length === 0) return false;
    for (let i = 0; i < filter.length; i++) if (bytes[start + i] !== filter[i]) return false;
    return true;
  }

  /** The process name of the header in `record`, as stackcollapse-perf.pl builds it. */
  private internPname(bytes: Buffer, pos: number): number {
    const record = this.record;
    const comm = bytes.toString("latin1", pos, record.commEnd);
    let pid = bytes.toString("latin1", record.pidStart, record.pidEnd);
    let tid = bytes.toString("latin1", record.tidStart, record.tidEnd);
    // A lone number is the TID (perf script's default fields); Perl treats "0" as no TID too.
    if (tid === "" || tid === "0") {
      tid = pid;
      pid = "?";
    }
    const pname = this.includeTid ? `${comm}-${pid}/${tid}` : this.includePid ? `${comm}-${pid}` : comm;
    return this.internPnameText(pname.replaceAll(" ", "_"));
  }

  private internPnameText(pname: string): number {
    let id = this.pnameIds.get(pname);
    if (id === undefined) {
      id = this.pnames.length;
      this.pnames.push(pname);
      this.pnameIsJava.push(pname === "java");
      this.pnameIds.set(pname, id);
    }
    return id;
  }

  private internGroup(names: string): number {
    let group = this.groupIds.get(names);
    if (group === undefined) {
      group = this.groups.length;
      this.groups.push(names);
      this.groupIds.set(names, group);
    }
    return group;
  }

  /**
   * A call-chain line starting at `pos`, possibly indented; returns the index of its "\n". The
   * line is hashed a word at a time, stopping at the word that holds the newline.
   */
  private stackLine(bytes: Buffer, view: DataView, pos: number, to: number, lineNumber: number): number {
    // The line is its own key, indentation included: the same line always comes with the same
    // indentation, and comparing the blanks a word at a time is cheaper than skipping them.
    const p = pos;
    const lines = this.lines;
    const previous = this.previousLine;
    let entry = previous >= 0 ? lines.next(previous) : -1;
    let end = entry >= 0 ? lines.matchAt(view, p, to, entry) : -1;
    if (end < 0) {
      end = hashLine(bytes, view, p, to, this.lineHash);
      entry = lines.find(view, p, end, this.lineHash.hash);
      if (entry < 0) entry = this.addLine(bytes, p, end);
      if (previous >= 0) lines.setNext(previous, entry);
    }
    this.previousLine = entry;
    let group = lines.group(entry, this.pnameJava);
    if (group === UNRECOGNIZED) {
      this.unrecognized(bytes, pos, end, lineNumber);
      return end;
    }
    if (this.pnameId < 0) return end; // filtered sample
    if (group === NOT_PARSED) group = this.computeGroup(entry, parseStackLine(lines.text(entry)));
    if (group === NO_FRAME) return end;
    if (this.frameCount === this.frames.length) {
      const grown = new Int32Array(this.frames.length * 2);
      grown.set(this.frames);
      this.frames = grown;
    }
    this.frames[this.frameCount++] = group;
    return end;
  }

  private addLine(bytes: Buffer, start: number, end: number): number {
    const parsed = parseStackLine(bytes.toString("latin1", start, end));
    const entry = this.lines.add(bytes, start, end, this.lineHash.hash, parsed ? NOT_PARSED : UNRECOGNIZED);
    if (parsed && this.pnameId >= 0) this.computeGroup(entry, parsed);
    return entry;
  }

  private computeGroup(entry: number, parsed: ParsedStackLine): number {
    const names = frameNames(parsed!, this.pnameJava, this.annotate, this.unknownNames);
    const group = names === "" ? NO_FRAME : this.internGroup(names);
    this.lines.setGroup(entry, this.pnameJava, group);
    return group;
  }

  private unrecognized(bytes: Buffer, pos: number, end: number, lineNumber: number): void {
    this.stats.unrecognizedLines++;
    if (!this.stats.firstUnrecognized) {
      this.stats.firstUnrecognized = { line: lineNumber, text: bytes.toString("latin1", pos, Math.min(end, pos + 200)) };
    }
  }

  /** Adds the current sample's stack to the table. */
  private finishSample(): void {
    this.stats.samples++;
    this.stacks.add(this.pnameId, this.frames, 0, this.frameCount, this.period);
  }

  private buildFolded(): FoldedStacks {
    const texts: string[] = [];
    const counts: number[] = [];
    const parts: string[] = [];
    this.stacks.forEach((root, frames, count) => {
      parts.length = 0;
      parts.push(this.pnames[root]!);
      for (let i = frames.length - 1; i >= 0; i--) parts.push(this.groups[frames[i]!]!);
      texts.push(parts.join(";"));
      counts.push(count);
    });
    // Distinct integer sequences are distinct texts unless a name holds the ";" separator (an
    // inlined "a->b" line gives two frames, the same text as two lines a and b): only then are
    // stacks merged again by their text.
    const ambiguous = this.groups.some((g) => g.includes(";")) || this.pnames.some((p) => p.includes(";"));
    return ambiguous ? FoldedStacks.fromEntries(texts, counts) : FoldedStacks.fromDistinct(texts, counts);
  }
}

/** A DataView over a buffer's bytes (offsets relative to the buffer). */
function viewOf(bytes: Buffer): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The sample period from its digits; Perl's `not $period` (no digits, or "0") counts one. */
function periodOf(bytes: Buffer, start: number, end: number): number {
  const length = end - start;
  if (length === 0 || (length === 1 && bytes[start] === 48)) return 1;
  if (length > 15) return Number(bytes.toString("latin1", start, end));
  let value = 0;
  for (let i = start; i < end; i++) value = value * 10 + (bytes[i]! - 48);
  return value;
}

/**
 * The event of the first sample header among the whole lines of `bytes` (the event a collapser
 * keeps by default), or undefined when they hold no header naming an event.
 */
export function firstEvent(bytes: Uint8Array): string | undefined {
  const record: EventRecordScan = { commEnd: 0, pidStart: 0, pidEnd: 0, tidStart: 0, tidEnd: 0 };
  const event: EventNameScan = { eventStart: 0, eventEnd: 0, periodStart: 0, periodEnd: 0 };
  let pos = 0;
  for (;;) {
    const nl = bytes.indexOf(10, pos);
    if (nl < 0) return undefined;
    const c0 = bytes[pos]!;
    if (c0 !== 9 && c0 !== 32 && c0 !== 10 && c0 !== 35 && scanEventRecord(bytes, pos, nl, record) && scanEventName(bytes, pos, nl, event)) {
      return Buffer.from(bytes.buffer, bytes.byteOffset + event.eventStart, event.eventEnd - event.eventStart).toString("latin1");
    }
    pos = nl + 1;
  }
}
