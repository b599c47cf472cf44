/**
 * A CPU profile: folded stacks with their provenance. It renders itself as a flame graph, as
 * folded text or as a table of the hottest functions, and a notebook cell that ends in a
 * profile shows the flame graph.
 */
import { FoldedStacks, parseFolded } from "../flamegraph/folded.js";
import { flameGraphHtml } from "../flamegraph/html.js";
import { renderFlameGraph, renderFlameGraphDetailed } from "../flamegraph/render.js";
import type { FlameGraphOptions } from "../flamegraph/options.js";
import type { PaletteName } from "../flamegraph/palette.js";
import { topFunctions, type TopFunction } from "../flamegraph/top.js";
import { JUPYTER_DISPLAY } from "../viz/mime.js";

export type { TopFunction };

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
    return renderFlameGraph(this.stacks, this.graphOptions(options));
  }

  /** The options svg() draws with: the profile's source as subtitle, its palette. */
  private graphOptions(options: FlameGraphOptions): FlameGraphOptions {
    const subtitle = options.subtitle ?? this.info.source;
    const colors = options.colors ?? this.info.colors;
    return { ...options, ...(subtitle ? { subtitle } : {}), ...(colors ? { colors } : {}) };
  }

  /**
   * The n hottest functions by self samples (or by total with `by: "total"`). Names are shown
   * without collapse annotations (`_[k]`…), as in the flame graph.
   */
  top(n = 10, options: { by?: "self" | "total" } = {}): TopFunction[] {
    return topFunctions(this.stacks, n, { by: options.by, skipRoot: this.info.rootIsProcess ? 1 : 0 });
  }

  /** "1,234 samples (cpu-clock), 56 distinct stacks — guest: perf record …" */
  private headline(): string {
    return (
      `${this.samples.toLocaleString("en-US")} samples${this.info.event ? ` (${this.info.event})` : ""}, ${this.stacks.size} distinct stacks` +
      (this.info.source ? ` — ${this.info.source}` : "")
    );
  }

  /** A plain-text summary: totals and the hottest functions. */
  summary(n = 10): string {
    const lines = [`Profile: ${this.headline()}`];
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

  /**
   * Notebook display: the flame graph, interactive inline (`text/html`, with the hottest functions
   * as a stand-in where the output is sanitized), as an SVG document (nbconvert, GitHub, files),
   * and the summary as text. Both graphs are one rendering, so they carry the same id.
   */
  [JUPYTER_DISPLAY](): Record<string, string> {
    const graph = renderFlameGraphDetailed(this.stacks, this.graphOptions({}));
    const html = flameGraphHtml(graph, { heading: `Flame graph: ${this.headline()}`, top: this.top(10), countName: "samples" });
    return { "text/html": html, "image/svg+xml": graph.svg, "text/plain": this.summary() };
  }
}
