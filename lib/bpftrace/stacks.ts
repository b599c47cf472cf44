/**
 * Stack-keyed counts: `@[kstack] = count()` turned into rows a learner can read — each distinct
 * stack (frames leaf first, offsets as printed), how often it was seen and its share — plus the
 * same data as folded stacks for a flame graph and as a chart of caller chains.
 */
import { UsageError } from "../errors/index.js";
import { FoldedStacks, flameGraphHtml, renderFlameGraph, renderFlameGraphDetailed, topFunctions, type FlameGraphOptions } from "../flamegraph/index.js";
import { escapeHtml, rawHtml, renderHtmlTable, shareBar, TABLE_CSS } from "../viz/html.js";
import { JUPYTER_DISPLAY, type Displayable, type MimeBundle } from "../viz/mime.js";
import { vegaLiteChart, type VegaLiteChart, type VegaLiteSpec } from "../viz/vegalite.js";
import { frameFunction, keyContext, keyStack } from "./keys.js";
import type { BpftraceMap } from "./types.js";

export interface StackRow {
  /** Frames leaf first, as bpftrace printed them ("task_tick_fair+1"). */
  frames: string[];
  count: number;
  /** The key's other arguments (e.g. comm in `@[comm, kstack]`), as printed. */
  context: string[];
}

/** Whether a map is keyed by a stack and counts something (the kstack-counting idiom). */
export function isStackCountMap(map: BpftraceMap): boolean {
  return map.kind === "values" && map.entries.some((e) => e.key?.parts.some((p) => p.kind === "stack")) && map.entries.every((e) => typeof e.value === "number");
}

export class StackCounts implements Displayable {
  /** Rows sorted by count, highest first. */
  readonly rows: StackRow[];
  readonly total: number;

  constructor(
    readonly name: string,
    rows: StackRow[],
  ) {
    this.rows = [...rows].sort((a, b) => b.count - a.count);
    this.total = this.rows.reduce((sum, r) => sum + r.count, 0);
  }

  /** Reads a stack-keyed map; throws a UsageError naming the map when it is not one. */
  static fromMap(map: BpftraceMap): StackCounts {
    if (map.kind !== "values" || !isStackCountMap(map)) {
      throw new UsageError(`Map ${map.name} is not a stack-keyed count map.`, {
        hint: "Stack views need a map like @[kstack] = count() (or keyed by ustack, possibly with other key arguments).",
      });
    }
    // Frames are read from the key on first use, so showing the top stacks of a long capture
    // splits only those stacks.
    const rows = map.entries.map((e): StackRow => {
      let frames: string[] | undefined;
      let context: string[] | undefined;
      return {
        count: e.value as number,
        get frames(): string[] {
          return (frames ??= keyStack(e.key) ?? []);
        },
        get context(): string[] {
          return (context ??= keyContext(e.key));
        },
      };
    });
    return new StackCounts(map.name, rows);
  }

  /** The n most frequent stacks. */
  top(n = 10): StackRow[] {
    return this.rows.slice(0, n);
  }

  /** Share of all counts for a row (0..1). */
  share(row: StackRow): number {
    return this.total ? row.count / this.total : 0;
  }

  /**
   * The same counts with offsets stripped ("task_tick_fair+1" → "task_tick_fair"); stacks that
   * then read the same are merged: one row per distinct caller chain.
   */
  withoutOffsets(): StackCounts {
    const merged = new Map<string, StackRow>();
    for (const row of this.rows) {
      const frames = row.frames.map(frameFunction);
      const id = `${row.context.join("\u0000")}\u0001${frames.join("\u0000")}`;
      const seen = merged.get(id);
      if (seen) seen.count += row.count;
      else merged.set(id, { frames, count: row.count, context: row.context });
    }
    return new StackCounts(this.name, [...merged.values()]);
  }

  /**
   * Folded stacks, as FlameGraph's stackcollapse-bpftrace.pl writes them: frames root first joined
   * by ";", then a space and the count, one stack a line. The key's other arguments (comm…) become
   * the root frames, and offsets are kept unless `offsets: false`. Like the Perl script, an empty
   * stack with nothing else in its key (a sample taken in user mode, for kstack) is left out.
   */
  folded(options: { offsets?: boolean } = {}): string {
    const source = options.offsets === false ? this.withoutOffsets() : this;
    const counts = new Map<string, number>();
    for (const row of source.rows) {
      if (!row.frames.length && !row.context.length) continue;
      let line = row.context.join(";");
      for (let i = row.frames.length - 1; i >= 0; i--) line += line ? `;${row.frames[i]}` : row.frames[i];
      counts.set(line, (counts.get(line) ?? 0) + row.count);
    }
    // Most frequent first, as the rows are (sorting long stack strings would dominate the cost).
    let out = "";
    for (const [line, count] of counts) out += `${line} ${count}\n`;
    return out;
  }

  /** The flame graph of these stacks (SVG text), drawn by kbook's flame graph renderer. */
  flameGraph(options: FlameGraphOptions = {}): string {
    return renderFlameGraph(this.folded(), this.flameGraphOptions(options));
  }

  private flameGraphOptions(options: FlameGraphOptions): FlameGraphOptions {
    return { title: `bpftrace ${this.name}`, countname: "counts", ...options };
  }

  /**
   * The flame graph as a notebook display: interactive inline (`text/html`, the hottest functions
   * standing in where the output is sanitized), as an SVG document, and the folded stacks as text.
   */
  flameGraphDisplay(options: FlameGraphOptions = {}): MimeBundle {
    const graph = renderFlameGraphDetailed(this.folded(), this.flameGraphOptions(options));
    // Functions are counted without offsets ("vfs_write+5" and "vfs_write+80" are one function);
    // FoldedStacks holds stacks as latin1 byte strings.
    const functions = new FoldedStacks();
    for (const row of this.withoutOffsets().rows) {
      if (row.frames.length) functions.add(Buffer.from([...row.frames].reverse().join(";"), "utf8").toString("latin1"), row.count);
    }
    const heading = `Flame graph of ${this.name}: ${this.total.toLocaleString("en-US")} counts, ${this.rows.length} distinct stacks`;
    const html = flameGraphHtml(graph, { heading, top: topFunctions(functions, 10), countName: "counts" });
    return { "text/html": html, "image/svg+xml": graph.svg, "text/plain": this.folded() };
  }

  /** Vega-Lite bar chart of counts per distinct caller chain (offsets stripped), top n. */
  chartSpec(n = 15): VegaLiteSpec {
    const chains = this.withoutOffsets();
    const top = chains.top(n);
    const shared = sharedLeafFrames(top);
    const values = top.map((row, i) => ({
      chain: chainLabel(row, i + 1, shared),
      stack: [...row.context, ...row.frames].join(" ← "),
      count: row.count,
      share: chains.share(row),
    }));
    const rest = chains.rows.slice(n);
    if (rest.length) {
      const count = rest.reduce((s, r) => s + r.count, 0);
      values.push({ chain: `other (${rest.length} chains)`, stack: `${rest.length} less frequent chains`, count, share: chains.total ? count / chains.total : 0 });
    }
    return {
      title: {
        text: `${this.name}: counts per caller chain (${chains.rows.length} distinct, ${this.total} total)`,
        subtitle: shared > 1 ? `leaf ← callers; the ${shared} frames every chain shown starts with are written "…"` : "leaf ← callers",
      },
      width: 480,
      data: { values },
      mark: { type: "bar", tooltip: true, color: "#e8663d" },
      encoding: {
        // No axis title: headless vega estimates label widths and would draw it over long labels.
        y: { field: "chain", type: "nominal", sort: null, title: null, axis: { labelLimit: 520 } },
        x: { field: "count", type: "quantitative", title: "count" },
        tooltip: [
          { field: "stack", type: "nominal", title: "stack" },
          { field: "count", type: "quantitative" },
          { field: "share", type: "quantitative", format: ".1%" },
        ],
      },
    };
  }

  /** The chart as a display (Vega-Lite spec + SVG rendered here + text). */
  chart(n = 15): Promise<VegaLiteChart> {
    return vegaLiteChart(this.chartSpec(n), this.text(n));
  }

  /** HTML table of the top n stacks: frames leaf first, count, share. */
  tableHtml(n = 10): string {
    const top = this.top(n);
    const shared = top.length > 1 ? sharedLeafFrames(top) : 0;
    const rows = top.map((row, i) => [
      i + 1,
      rawHtml(stackCellHtml(row, shared)),
      row.count,
      shareBar(this.share(row)),
    ]);
    const caption =
      `${this.name}: top ${Math.min(n, this.rows.length)} of ${this.rows.length} distinct stacks (${this.total} total)` +
      (shared ? `; the ${shared} grey frames are the same in every stack shown` : "");
    return renderHtmlTable(
      [{ label: "#", align: "right" }, { label: "stack (leaf first)" }, { label: "count", align: "right" }, { label: "share" }],
      rows,
      { caption },
    );
  }

  /** Plain-text listing of the top n stacks. */
  text(n = 10): string {
    const lines = [`${this.name}: ${this.rows.length} distinct stacks, ${this.total} total`];
    this.top(n).forEach((row, i) => {
      lines.push(`#${i + 1}  ${row.count} (${(this.share(row) * 100).toFixed(1)}%)${row.context.length ? `  [${row.context.join(", ")}]` : ""}`);
      for (const frame of row.frames) lines.push(`    ${frame}`);
    });
    if (this.rows.length > n) lines.push(`… ${this.rows.length - n} more stacks`);
    return lines.join("\n");
  }

  [JUPYTER_DISPLAY](): MimeBundle {
    return { "text/html": `<style>${TABLE_CSS}</style>${this.tableHtml()}`, "text/plain": this.text() };
  }

  toJSON(): { name: string; total: number; rows: StackRow[] } {
    return { name: this.name, total: this.total, rows: this.rows };
  }
}

function stackCellHtml(row: StackRow, shared: number): string {
  const context = row.context.length ? `<div><em>${escapeHtml(row.context.join(", "))}</em></div>` : "";
  if (!row.frames.length) return `${context}<em>(no stack)</em>`;
  const items = row.frames.map((f, i) => `<li${i < shared ? ' style="color:#999"' : ""}>${escapeHtml(f)}</li>`);
  return `${context}<ol>${items.join("")}</ol>`;
}

/**
 * How many leaf-side frames all these stacks share. Stacks counted at one probe start alike (for
 * task_tick_fair: the whole timer-interrupt path) and differ in what was interrupted, which is
 * what a reader wants to compare.
 */
function sharedLeafFrames(rows: readonly StackRow[]): number {
  if (!rows.length) return 0;
  const first = [...rows[0]!.context, ...rows[0]!.frames];
  let shared = first.length;
  for (const row of rows.slice(1)) {
    const frames = [...row.context, ...row.frames];
    let i = 0;
    while (i < shared && i < frames.length && frames[i] === first[i]) i++;
    shared = i;
  }
  return shared;
}

/**
 * "#3 task_tick_fair ← … ← asm_sysvec_apic_timer_interrupt ← pipe_write ← vfs_write ← …": the
 * leaf, then the frames after those every chain shares, ranked so labels stay unique.
 */
function chainLabel(row: StackRow, rank: number, shared: number, depth = 3): string {
  const frames = [...row.context, ...row.frames];
  if (!frames.length) return `#${rank} (no stack)`;
  if (shared < 2) return `#${rank} ${frames.slice(0, depth + 1).join(" ← ")}${frames.length > depth + 1 ? " ← …" : ""}`;
  const rest = frames.slice(shared, shared + depth);
  const tail = rest.length ? rest.join(" ← ") : frames[frames.length - 1]!;
  return `#${rank} ${frames[0]} ← … ← ${tail}${frames.length > shared + depth ? " ← …" : ""}`;
}
