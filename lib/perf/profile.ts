/**
 * A CPU profile: folded stacks with their provenance. It renders itself as a flame graph, as
 * folded text or as a table of the hottest functions, and a notebook cell that ends in a
 * profile shows the flame graph.
 */
import { FoldedStacks, parseFolded } from "../flamegraph/folded.js";
import { renderFlameGraph } from "../flamegraph/render.js";
import type { FlameGraphOptions } from "../flamegraph/options.js";
import type { PaletteName } from "../flamegraph/palette.js";
import { JUPYTER_DISPLAY } from "../viz/mime.js";

const ANNOTATION = /_\[[kwij]\]$/;

export interface ProfileInfo {
  /** What was profiled, e.g. "guest: perf record -a -g -F 999 -- dd …". */
  source?: string;
  /** The sampled event ("cpu-clock"). */
  event?: string;
  /** True when each stack's first frame is the process name (perf's collapse does this). */
  rootIsProcess?: boolean;
  /** Things the reader should know (restricted symbols, skipped lines…). */
  warnings?: string[];
  /**
   * The palette svg() uses unless told otherwise. perf recordings are collapsed with
   * annotations (_[k] kernel, _[j] JIT, _[i] inlined) and drawn with flamegraph.pl's "java"
   * multi-palette, which colours those kinds of frames apart (kernel orange, user red/yellow,
   * JIT green, inlined aqua).
   */
  colors?: PaletteName;
}

export interface TopFunction {
  name: string;
  /** Samples where the function is the leaf (running itself). */
  self: number;
  /** Samples where it is anywhere on the stack (itself or its callees). */
  total: number;
  selfPercent: number;
  totalPercent: number;
}

function percent(part: number, whole: number): number {
  return whole > 0 ? (100 * part) / whole : 0;
}

export class Profile {
  readonly stacks: FoldedStacks;
  readonly info: ProfileInfo;

  constructor(stacks: FoldedStacks | string, info: ProfileInfo = {}) {
    if (typeof stacks === "string") {
      const folded = new FoldedStacks();
      for (const line of parseFolded(stacks).lines) folded.add(Buffer.from(line.stack, "utf8").toString("latin1"), line.count2 ?? line.count);
      this.stacks = folded;
    } else {
      this.stacks = stacks;
    }
    this.info = info;
  }

  /** Sum of all sample counts (periods, for perf captures with periods). */
  get samples(): number {
    return this.stacks.total();
  }

  /** Folded text, one "frame;frame;frame count" line per distinct stack. */
  folded(): string {
    return this.stacks.toString();
  }

  /** The flame graph as SVG text (flamegraph.pl options). */
  svg(options: FlameGraphOptions = {}): string {
    const subtitle = options.subtitle ?? this.info.source;
    const colors = options.colors ?? this.info.colors;
    return renderFlameGraph(this.stacks, { ...options, ...(subtitle ? { subtitle } : {}), ...(colors ? { colors } : {}) });
  }

  /**
   * The n hottest functions by self samples (or by total with `by: "total"`). Names are shown
   * without collapse annotations (`_[k]`…), as in the flame graph.
   */
  top(n = 10, options: { by?: "self" | "total" } = {}): TopFunction[] {
    const self = new Map<string, number>();
    const total = new Map<string, number>();
    let all = 0;
    for (const { frames: annotated, count } of this.stacks.stacks()) {
      const frames = annotated.map((f) => f.replace(ANNOTATION, ""));
      all += count;
      const from = this.info.rootIsProcess ? 1 : 0;
      if (frames.length > from) {
        const leaf = frames[frames.length - 1]!;
        self.set(leaf, (self.get(leaf) ?? 0) + count);
      }
      // Recursion puts a function on a stack more than once; it still ran in those samples once.
      const seen = new Set(frames.slice(from));
      for (const name of seen) total.set(name, (total.get(name) ?? 0) + count);
    }
    const rows = [...total.keys()].map((name) => {
      const s = self.get(name) ?? 0;
      const t = total.get(name)!;
      return { name, self: s, total: t, selfPercent: percent(s, all), totalPercent: percent(t, all) };
    });
    const key = options.by === "total" ? "total" : "self";
    rows.sort((a, b) => b[key] - a[key] || (key === "self" ? b.total - a.total : b.self - a.self) || (a.name < b.name ? -1 : 1));
    return rows.slice(0, n);
  }

  /** A plain-text summary: totals and the hottest functions. */
  summary(n = 10): string {
    const lines = [
      `Profile: ${this.samples.toLocaleString("en-US")} samples${this.info.event ? ` (${this.info.event})` : ""}, ${this.stacks.size} distinct stacks` +
        (this.info.source ? ` — ${this.info.source}` : ""),
    ];
    const rows = this.top(n);
    if (rows.length) {
      lines.push("   self%  total%  function");
      for (const r of rows) lines.push(`${r.selfPercent.toFixed(2).padStart(8)}${r.totalPercent.toFixed(2).padStart(8)}  ${r.name}`);
    }
    for (const w of this.info.warnings ?? []) lines.push(`warning: ${w}`);
    return lines.join("\n");
  }

  toString(): string {
    return this.summary();
  }

  /** Notebook display: the flame graph, with the summary as text. */
  [JUPYTER_DISPLAY](): Record<string, string> {
    return { "image/svg+xml": this.svg(), "text/plain": this.summary() };
  }
}
