/**
 * A flame graph as a notebook's `text/html` output: the graph inline (so its script can run:
 * JupyterLab draws `image/svg+xml` as an <img>, where nothing is interactive) and, for front ends
 * that sanitize the output, a summary that reads without it — the title line with the sample
 * count and the hottest functions as a table (see viz/fallback.ts for how one or the other shows).
 *
 * The script is an HTML <script> beside the <svg>, not inside it. JupyterLab and VS Code run an
 * output's scripts by creating new <script> elements (scripts set through innerHTML never run):
 * JupyterLab copies `textContent` and puts the copy in place; VS Code copies `innerText`, which an
 * SVG <script> does not have, and appends the copy to the output's element. The script finds its
 * graph from wherever it runs (assets/flamegraph/flamegraph.js).
 */
import { assertInlineableScript } from "../viz/escape.js";
import { fallbackStyle, outputId, richWithPlainFallback } from "../viz/fallback.js";
import { escapeHtml, renderHtmlTable } from "../viz/html.js";
import type { FlameGraphResult } from "./render.js";
import type { TopFunction } from "./top.js";

export interface FlameGraphSummary {
  /** The title line: what was sampled and how much ("Flame graph: 1,234 samples (cpu-clock) …"). */
  heading: string;
  /** The hottest functions, listed when the graph cannot be shown. */
  top: readonly TopFunction[];
  /** What a count is ("samples", "counts"). */
  countName: string;
}

/** Styles for the stand-in table (scoped by class; removed with every <style> where sanitized). */
const SUMMARY_CSS =
  ".kbook-flamegraph-output table{border-collapse:collapse;font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}" +
  ".kbook-flamegraph-output th,.kbook-flamegraph-output td{border:1px solid #ddd;padding:2px 6px}";

/** The flame graph and its summary as one HTML fragment. */
export function flameGraphHtml(graph: Pick<FlameGraphResult, "element" | "script">, summary: FlameGraphSummary): string {
  const id = outputId("kbook-flamegraph");
  const table = renderHtmlTable(
    [{ label: "function" }, { label: `self (${summary.countName})`, align: "right" }, { label: "self %", align: "right" }, { label: "total %", align: "right" }],
    summary.top.map((row) => [row.name, row.self.toLocaleString("en-US"), row.selfPercent.toFixed(2), row.totalPercent.toFixed(2)]),
    { caption: `The ${summary.top.length} hottest functions (by ${summary.countName} where the function itself ran)` },
  );
  const plain =
    `<p><strong>${escapeHtml(summary.heading)}</strong></p>${table}` +
    "<p><em>The interactive flame graph shows when the output is trusted: run the cell, or trust the notebook.</em></p>";
  const script = graph.script ? `<script>${assertInlineableScript(graph.script, "the flame graph script")}</script>` : "";
  return (
    `<div id="${id}" class="kbook-flamegraph-output">${fallbackStyle(id)}<style>${SUMMARY_CSS}</style>` +
    `${richWithPlainFallback(graph.element, plain)}${script}</div>`
  );
}
