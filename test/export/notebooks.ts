/**
 * Test notebooks built from kbook's real renderers: a Vega-Lite chart from lib/viz (spec + SVG
 * rendered by vega), a kbook HTML table, and flame graphs rendered by lib/flamegraph from
 * folded stacks in testdata/ (one frame of dd.folded is named <script>alert(1)</script>).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { renderFlameGraph } from "../../lib/flamegraph/index.js";
import { renderHtmlTable } from "../../lib/viz/html.js";
import { vegaLiteBundle } from "../../lib/viz/vegalite.js";
import type { Cell, Notebook, Output } from "../../lib/export/notebook.js";

export const TESTDATA = join(import.meta.dirname, "testdata");
export const HOSTILE = "<script>alert(1)</script>";

/** A 1×1 PNG. */
export const PNG_PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

let cellIds = 0;
/** nbformat 4.5 wants an id on every cell. */
const nextCellId = () => `cell-${++cellIds}`;

export function markdown(source: string, metadata: Cell["metadata"] = {}): Cell {
  return { cell_type: "markdown", id: nextCellId(), source, metadata };
}

export function code(source: string, outputs: Output[] = [], metadata: Cell["metadata"] = {}, count = 1): Cell {
  return { cell_type: "code", id: nextCellId(), source, metadata, outputs, execution_count: count };
}

export function display(data: Record<string, unknown>): Output {
  return { output_type: "display_data", data, metadata: {} };
}

export function notebook(cells: Cell[], metadata: Notebook["metadata"] = {}): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: "kbook", display_name: "TypeScript (kbook)", language: "typescript" },
      language_info: { name: "typescript" },
      ...metadata,
    },
    cells,
  };
}

/** A flame graph from kbook's renderer for a folded-stacks fixture in testdata/. */
export function flameGraph(fixture: string, title: string): string {
  return renderFlameGraph(readFileSync(join(TESTDATA, fixture), "utf8"), { title });
}

export const SALES_SPEC = {
  description: "kstack counts",
  data: { values: [ { frame: "task_tick_fair", count: 42 }, { frame: "update_curr", count: 17 }, { frame: "<b>bold?</b>", count: 5 } ] },
  mark: "bar",
  encoding: {
    x: { field: "frame", type: "nominal", sort: "-y" },
    y: { field: "count", type: "quantitative" },
    tooltip: [{ field: "frame" }, { field: "count" }],
  },
};

/** The article-like notebook every export test reads. */
export async function articleNotebook(
  flameGraphs: [string, string] = [flameGraph("dd.folded", "dd if=/dev/zero"), flameGraph("tick.folded", "task_tick_fair stacks")],
): Promise<Notebook> {
  const chart = await vegaLiteBundle(SALES_SPEC, "bar chart: kstack counts");
  const table = renderHtmlTable(
    [{ label: "frame" }, { label: "count", align: "right" }],
    [["task_tick_fair", 42], [HOSTILE, 1]],
    { caption: "kstack counts" },
  );
  return notebook(
    [
      markdown(`# Reproducing the article\n\nAnnotations with **bold**, \`code\` and a [link](https://www.kernel.org/).\n\n${HOSTILE}\n\n<img src=x onerror="window.__xss=1">`),
      markdown("## Profile with perf\n\nThe flame graph of `dd`:"),
      code("%%perf -F 999 -a -g -- dd if=/dev/zero of=/tmp/t bs=1M count=100", [
        { output_type: "stream", name: "stdout", text: ["[ perf record: Woken up 1 times ]\n", "\u001b[32mok\u001b[0m done\n"] },
        display({ "image/svg+xml": flameGraphs[0], "text/plain": "flame graph (dd)" }),
      ], {}, 3),
      markdown("## A second profile\n\nTwo graphs on one page must not interfere."),
      code("profile2", [{ output_type: "execute_result", execution_count: 4, data: { "image/svg+xml": flameGraphs[1], "text/plain": "flame graph 2" }, metadata: {} }], {}, 4),
      markdown("## kstack counts"),
      code("%%bpftrace\nkprobe:task_tick_fair { @[kstack] = count(); }", [display({ "text/html": table, "text/plain": "table" }), display(chart)], {}, 5),
      markdown("## Errors and images"),
      code("throw new Error('boom')", [
        { output_type: "error", ename: "Error", evalue: "boom <b>", traceback: ["\u001b[31mError\u001b[0m: boom <b>", "    at <anonymous>:1:7"] },
      ], {}, 6),
      code("png", [display({ "image/png": PNG_PIXEL, "text/plain": "pixel" })], {}, 7),
      code("secret setup code", [{ output_type: "stream", name: "stdout", text: "visible output of hidden code\n" }], { tags: ["remove-input"] }, 8),
      code("folded code", [{ output_type: "stream", name: "stdout", text: "output of folded code\n" }], { jupyter: { source_hidden: true } }, 9),
      code("removed cell", [{ output_type: "stream", name: "stdout", text: "REMOVED-CELL-OUTPUT\n" }], { tags: ["remove-cell"] }, 10),
      code("noisy()", [{ output_type: "stream", name: "stdout", text: "REMOVED-OUTPUT\n" }], { tags: ["remove-output"] }, 11),
    ],
    { title: "The article, reproduced" },
  );
}

/** Markup that, if it ever ran, would set window.__pwned, open an alert or fetch something. */
const HOSTILE_MARKUP = [
  "<script>window.__pwned=1</script>",
  '<img src="x" onerror="window.__pwned=2">',
  '<svg onload="window.__pwned=3"><rect width="5" height="5"/></svg>',
  '<svg><script>window.__pwned=4</script></svg>',
  '<svg><a href="javascript:window.__pwned=5"><text y="10">click</text></a></svg>',
  '<svg><foreignObject><img src="x" onerror="window.__pwned=6"></foreignObject></svg>',
  '<iframe srcdoc="<script>parent.__pwned=7</script>"></iframe>',
  '<details open ontoggle="window.__pwned=8">d</details>',
  '<style>@import "https://example.invalid/x.css";</style><div style="background:url(https://example.invalid/p.png)">bg</div>',
  '<form action="https://example.invalid"><input autofocus onfocus="window.__pwned=9"></form>',
  '<math><mtext><table><mglyph><style><img src=x onerror="window.__pwned=10">',
  '<noscript><p title="</noscript><img src=x onerror=window.__pwned=11>">',
];
const HOSTILE_SVG = [
  '<svg xmlns="http://www.w3.org/2000/svg" onload="window.__pwned=20"><script>window.__pwned=21</script><rect width="5" height="5"/></svg>',
  '<svg xmlns="http://www.w3.org/2000/svg"><set attributeName="onmouseover" to="window.__pwned=22"/><animate attributeName="href" values="javascript:window.__pwned=23"/></svg>',
  '<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><div xmlns="http://www.w3.org/1999/xhtml"><![CDATA[</div><img src="x" onerror="window.__pwned=24">]]></div></foreignObject></svg>',
  '<svg xmlns="http://www.w3.org/2000/svg"><image href="https://example.invalid/i.png"/><use href="https://example.invalid/u.svg#a"/></svg>',
];

/** Every hostile payload as a markdown cell and as HTML outputs, plus hostile SVG outputs. */
export const hostileNotebook = (): Notebook =>
  notebook([
    ...HOSTILE_MARKUP.map((p) => markdown(p)),
    code("html", HOSTILE_MARKUP.map((p) => display({ "text/html": p, "text/plain": "x" }))),
    code("svg", HOSTILE_SVG.map((p) => display({ "image/svg+xml": p, "text/plain": "x" }))),
  ]);
