/**
 * A bpftrace run's output, typed: maps, histograms, stacks, printed text, and how the run ended.
 * It displays itself in a notebook (a report of every map) and offers the richer views one by one:
 * `stacks().chart()`, `stacks().flameGraph()`, `displays()` for every bundle at once.
 */
import { UsageError } from "../errors/index.js";
import { fallbackStyle, outputId } from "../viz/fallback.js";
import { escapeHtml, preformatted, renderHtmlPage, TABLE_CSS } from "../viz/html.js";
import { JUPYTER_DISPLAY, type Displayable, type MimeBundle } from "../viz/mime.js";
import { histogramSvg, histogramText, mapHtml, mapText, valueText } from "./display.js";
import type { BpftraceDiagnostic } from "./errors.js";
import { parseJsonRecords, type ParseOptions } from "./json.js";
import { isStackCountMap, StackCounts } from "./stacks.js";
import { parseTextRecords } from "./text.js";
import type { BpftraceMap, BpftraceRecord, HistogramMap, ParseProblem } from "./types.js";

/** Why a run stopped. */
export type StopReason = "exit" | "duration" | "interrupted" | "timeout";

/** Facts about a run in the guest (absent for output parsed from a file). */
export interface BpftraceRunInfo {
  program: string;
  args: string[];
  stopReason: StopReason;
  exitCode: number | null;
  /** From start to exit, including bpftrace's own start-up (~2.5 s under TCG). */
  durationMs: number;
  /** From the probes being attached to the stop (SIGINT sent, or bpftrace exiting by itself). */
  tracedMs?: number;
  stderr: string;
  /** Warnings bpftrace printed about the program. */
  warnings: BpftraceDiagnostic[];
}

export class BpftraceResult implements Displayable {
  constructor(
    readonly records: BpftraceRecord[],
    /** Lines that did not parse (lenient parsing only). */
    readonly problems: ParseProblem[] = [],
    readonly run?: BpftraceRunInfo,
  ) {}

  /** Each map as last printed (print() and interval printing repeat them), in first-print order. */
  get maps(): BpftraceMap[] {
    const byName = new Map<string, BpftraceMap>();
    for (const r of this.records) if (r.type === "map") byName.set(r.map.name, r.map);
    return [...byName.values()];
  }

  /** A map by name ("@bytes" or "bytes"; "@" is the unnamed map). */
  map(name: string): BpftraceMap | undefined {
    const wanted = name.startsWith("@") ? name : `@${name}`;
    return this.maps.find((m) => m.name === wanted);
  }

  /** Everything printed by printf(), time(), join(), cat(), system() and print(value), in order. */
  get output(): string {
    let out = "";
    for (const r of this.records) {
      if (r.type === "text") out += r.source === "join" ? `${r.text}\n` : r.text;
      else if (r.type === "value") out += `${valueText(r.value)}\n`;
    }
    return out;
  }

  get attachedProbes(): number | undefined {
    const r = this.records.find((x) => x.type === "attached_probes");
    return r?.type === "attached_probes" ? r.probes : undefined;
  }

  get lostEvents(): number {
    return this.records.reduce((sum, r) => sum + (r.type === "lost_events" ? r.events : 0), 0);
  }

  /** The stack-keyed count maps (`@[kstack] = count()`), as StackCounts. */
  stackMaps(): StackCounts[] {
    return this.maps.filter(isStackCountMap).map((m) => StackCounts.fromMap(m));
  }

  /** A stack-keyed count map by name, or the first one. */
  stacks(name?: string): StackCounts {
    if (name !== undefined) {
      const map = this.map(name);
      if (!map) throw new UsageError(`No map ${name} in this bpftrace output.`, { hint: `Maps: ${this.mapNames()}.` });
      return StackCounts.fromMap(map);
    }
    const first = this.stackMaps()[0];
    if (!first) throw new UsageError("This bpftrace output has no stack-keyed map.", { hint: `Count stacks with @[kstack] = count(). Maps: ${this.mapNames()}.` });
    return first;
  }

  histograms(): HistogramMap[] {
    return this.maps.filter((m): m is HistogramMap => m.kind === "histogram");
  }

  private mapNames(): string {
    return this.maps.map((m) => m.name).join(", ") || "none";
  }

  /** A short line about the run: probes, how it stopped, lost events. */
  summary(): string {
    const bits: string[] = [];
    if (this.attachedProbes !== undefined) bits.push(`${this.attachedProbes} probe${this.attachedProbes === 1 ? "" : "s"} attached`);
    if (this.run) {
      const seconds = `${((this.run.tracedMs ?? this.run.durationMs) / 1000).toFixed(1)} s`;
      bits.push(
        {
          exit: `exited after ${seconds} of tracing`,
          duration: `traced for ${seconds}, then stopped`,
          interrupted: `interrupted after ${seconds} of tracing`,
          timeout: `timed out after ${seconds}`,
        }[this.run.stopReason],
      );
    }
    if (this.lostEvents) bits.push(`${this.lostEvents} events lost`);
    const maps = this.maps.length;
    bits.push(`${maps} map${maps === 1 ? "" : "s"}`);
    return `bpftrace: ${bits.join(", ")}`;
  }

  /**
   * The whole result as text. `output: false` leaves out the printed text (the CLI has streamed
   * it already); `top` is the number of stacks listed per stack map.
   */
  text(options: { output?: boolean; top?: number } = {}): string {
    const parts = [this.summary()];
    if (this.output && options.output !== false) parts.push(this.output.replace(/\n$/, ""));
    for (const map of this.maps) parts.push(mapText(map, options.top));
    for (const w of this.notes()) parts.push(`note: ${w}`);
    return parts.join("\n\n");
  }

  /** The whole result as an HTML fragment: printed text, then every map. */
  html(): string {
    const id = outputId("kbook-bpftrace");
    const parts = [`<div id="${id}" class="kbook-bpftrace">${fallbackStyle(id)}<style>${TABLE_CSS}</style>`, `<p>${escapeHtml(this.summary())}</p>`];
    if (this.output) parts.push(preformatted(lastLines(this.output, 200)));
    for (const map of this.maps) parts.push(mapHtml(map));
    const notes = this.notes();
    if (notes.length) parts.push(`<ul>${notes.map((n) => `<li>${escapeHtml(n)}</li>`).join("")}</ul>`);
    parts.push("</div>");
    return parts.join("\n");
  }

  /**
   * A standalone HTML page (the CLI's -o out.html): the report, then per stack map its chart of
   * caller chains and its flame graph (interactive: the SVG carries its own script).
   */
  async htmlPage(title = "bpftrace"): Promise<string> {
    const extra: string[] = [];
    for (const stacks of this.stackMaps()) {
      extra.push(`<h4>${escapeHtml(stacks.name)}: caller chains</h4>${(await stacks.chart()).svg}`);
      // Inline SVG in HTML takes the <svg> element only, without the XML prolog and doctype.
      const flame = stacks.folded() ? stacks.flameGraph() : "";
      if (flame) extra.push(`<h4>${escapeHtml(stacks.name)}: flame graph</h4>${flame.slice(flame.indexOf("<svg"))}`);
    }
    return renderHtmlPage(title, this.html() + extra.join("\n"));
  }

  /**
   * Every display, one MIME bundle each, for a kernel or magic that sends several outputs: the
   * printed text, then per stack map its Vega-Lite chart (spec + SVG + text), its table and its
   * flame graph (when kbook's renderer is available), per histogram a chart, other maps as tables.
   */
  async displays(): Promise<MimeBundle[]> {
    const bundles: MimeBundle[] = [{ "text/plain": this.summary() }];
    if (this.output) bundles.push({ "text/plain": this.output });
    for (const map of this.maps) {
      if (isStackCountMap(map)) {
        const stacks = StackCounts.fromMap(map);
        bundles.push((await stacks.chart()).bundle());
        bundles.push(stacks[JUPYTER_DISPLAY]());
        if (stacks.folded()) bundles.push(stacks.flameGraphDisplay());
      } else if (map.kind === "histogram") {
        for (const entry of map.entries.slice(0, 12)) {
          const title = entry.key ? `${map.name}[${entry.key.text.trim()}]` : map.name;
          bundles.push({ "image/svg+xml": histogramSvg(entry.value, map.scale, title), "text/plain": `${title}:\n${histogramText(entry.value, map.scale)}` });
        }
      } else {
        bundles.push({ "text/html": `<style>${TABLE_CSS}</style>${mapHtml(map)}`, "text/plain": mapText(map) });
      }
    }
    return bundles;
  }

  /** Problems and warnings worth showing under the result. */
  notes(): string[] {
    const notes = this.problems.map((p) => `output line ${p.line} skipped: ${p.message}`);
    for (const w of this.run?.warnings ?? []) notes.push(`bpftrace ${w.level.toLowerCase()}: ${w.message}`);
    return notes;
  }

  [JUPYTER_DISPLAY](): MimeBundle {
    return { "text/html": this.html(), "text/plain": this.text() };
  }

  toJSON(): object {
    return {
      summary: this.summary(),
      run: this.run,
      attachedProbes: this.attachedProbes,
      lostEvents: this.lostEvents,
      output: this.output,
      maps: this.maps,
      stacks: this.stackMaps().map((s) => s.toJSON()),
      problems: this.problems,
    };
  }
}

function lastLines(text: string, n: number): string {
  const lines = text.replace(/\n$/, "").split("\n");
  return lines.length <= n ? lines.join("\n") : `… ${lines.length - n} earlier lines\n${lines.slice(-n).join("\n")}`;
}

/** Parses `bpftrace -f json` output. */
export function parseBpftraceJson(text: string, options: ParseOptions = {}): BpftraceResult {
  const { records, problems } = parseJsonRecords(text, options);
  return new BpftraceResult(records, problems);
}

/** Parses bpftrace's default text output (e.g. pasted from an article). */
export function parseBpftraceText(text: string, options: ParseOptions = {}): BpftraceResult {
  const { records, problems } = parseTextRecords(text, options);
  return new BpftraceResult(records, problems);
}

/** Parses either format: JSON when the first non-blank line is a JSON object. */
export function parseBpftraceOutput(text: string, options: ParseOptions = {}): BpftraceResult {
  const first = /\S/.exec(text);
  return first && text[first.index] === "{" ? parseBpftraceJson(text, options) : parseBpftraceText(text, options);
}
