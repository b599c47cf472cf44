/**
 * How each kind of bpftrace map looks in a notebook and in files: histograms as bar charts
 * (Observable Plot, rendered to SVG here), stats and plain maps as tables, and a text form of
 * each that reads like bpftrace's own output.
 */
import { richWithPlainFallback } from "../viz/fallback.js";
import { escapeHtml, preformatted, renderHtmlTable } from "../viz/html.js";
import { Plot, renderPlotSvg } from "../viz/plot.js";
import { isStackCountMap, StackCounts } from "./stacks.js";
import type { BpftraceMap, BpftraceValue, HistogramBucket, HistogramMap, MapEntry, StatsMap, ValuesMap } from "./types.js";

/** Most entries drawn or listed per map; the rest are counted in a note. */
const MAX_HISTOGRAMS = 12;
const MAX_TABLE_ROWS = 50;

/** bpftrace's text labels for power-of-two sizes: 1, 2, …, 512, 1K, 2K, …, 1M, …, 1G, …, 1T. */
function log2Label(value: number): string {
  if (!(value > 0) || !Number.isInteger(Math.log2(value))) return String(value);
  const power = Math.log2(value);
  for (const [shift, suffix] of [[40, "T"], [30, "G"], [20, "M"], [10, "K"]] as const) {
    if (power >= shift) return `${2 ** (power - shift)}${suffix}`;
  }
  return String(value);
}

/** bpftrace's lhist labels: multiples of 1M and 1K get a suffix. */
function linearLabel(value: number): string {
  if (value !== 0 && value % 1048576 === 0) return `${value / 1048576}M`;
  if (value !== 0 && value % 1024 === 0) return `${value / 1024}K`;
  return String(value);
}

/** The label bpftrace's text output gives a bucket ("[4, 8)", "[0]", "(..., 0)", "[100, ...)"). */
export function bucketLabel(bucket: HistogramBucket, scale: HistogramMap["scale"]): string {
  const fmt = scale === "log2" ? log2Label : linearLabel;
  if (bucket.min === undefined) return `(..., ${fmt((bucket.max ?? -1) + 1)})`;
  if (bucket.max === undefined) return `[${fmt(bucket.min)}, ...)`;
  if (scale === "log2" && bucket.min === bucket.max && bucket.min <= 1) return `[${bucket.min}]`;
  return `[${fmt(bucket.min)}, ${fmt(bucket.max + 1)})`;
}

/** One histogram as text, in bpftrace's layout (label, count, @-bar). */
export function histogramText(buckets: HistogramBucket[], scale: HistogramMap["scale"]): string {
  const max = Math.max(0, ...buckets.map((b) => b.count));
  return buckets
    .map((b) => {
      const bar = "@".repeat(max ? Math.floor((b.count / max) * 52) : 0);
      return `${bucketLabel(b, scale).padEnd(16)}${String(b.count).padStart(8)} |${bar.padEnd(52)}|`;
    })
    .join("\n");
}

/** One histogram as a bar chart (SVG text). */
export function histogramSvg(buckets: HistogramBucket[], scale: HistogramMap["scale"], title?: string): string {
  const data = buckets.map((b) => ({ label: bucketLabel(b, scale), count: b.count }));
  const labels = data.map((d) => d.label);
  const rotate = labels.length > 8;
  return renderPlotSvg({
    width: 640,
    height: rotate ? 300 : 260,
    marginLeft: 60,
    marginBottom: rotate ? 70 : 40,
    style: { background: "white", color: "black" },
    x: { domain: labels, label: title ? `${title} (bucket)` : "bucket", tickRotate: rotate ? -40 : 0 },
    y: { label: "count", grid: true },
    marks: [
      Plot.barY(data, { x: "label", y: "count", fill: "#e8663d", title: (d: { label: string; count: number }) => `${d.label}: ${d.count}` }),
      Plot.ruleY([0]),
    ],
  });
}

function entryTitle(map: BpftraceMap, entry: MapEntry<unknown>): string {
  return entry.key ? `${map.name}[${entry.key.text.trim()}]` : map.name;
}

export function valueText(value: BpftraceValue): string {
  return typeof value === "string" || typeof value === "number" ? String(value) : JSON.stringify(value);
}

/** A map as HTML: a stack table, histogram charts, or a table of keys and values. */
export function mapHtml(map: BpftraceMap): string {
  if (isStackCountMap(map)) return StackCounts.fromMap(map).tableHtml();
  switch (map.kind) {
    case "histogram":
      return histogramsHtml(map);
    case "stats":
      return statsHtml(map);
    case "values":
      return valuesHtml(map);
  }
}

function histogramsHtml(map: HistogramMap): string {
  const parts = map.entries.slice(0, MAX_HISTOGRAMS).map((entry) => {
    const title = entryTitle(map, entry);
    // Inline SVG does not survive a sanitizer (see viz/fallback.ts): bpftrace's own text histogram
    // stands in for it. The caller places the fallback style (BpftraceResult.html()).
    const chart = entry.value.length
      ? richWithPlainFallback(histogramSvg(entry.value, map.scale, title), preformatted(histogramText(entry.value, map.scale)))
      : "<em>(empty)</em>";
    return `<figure style="margin:0.5em 0"><figcaption><code>${escapeHtml(title)}</code> (${map.scale === "log2" ? "hist" : "lhist"}, ${sumCounts(entry.value)} values)</figcaption>${chart}</figure>`;
  });
  if (map.entries.length > MAX_HISTOGRAMS) parts.push(`<p>… ${map.entries.length - MAX_HISTOGRAMS} more histograms in ${escapeHtml(map.name)}</p>`);
  return parts.join("");
}

function statsHtml(map: StatsMap): string {
  const rows = [...map.entries]
    .sort((a, b) => (b.value.count ?? 0) - (a.value.count ?? 0))
    .map((e) => [e.key ? e.key.text.trim() : "", e.value.count, e.value.average, e.value.total]);
  return renderHtmlTable(
    [{ label: "key" }, { label: "count", align: "right" }, { label: "average", align: "right" }, { label: "total", align: "right" }],
    rows,
    { caption: map.name, maxRows: MAX_TABLE_ROWS },
  );
}

function valuesHtml(map: ValuesMap): string {
  if (map.entries.length === 1 && !map.entries[0]!.key) {
    return `<p><code>${escapeHtml(map.name)}</code> = <code>${escapeHtml(valueText(map.entries[0]!.value))}</code></p>`;
  }
  const rows = sortedByValue(map.entries).map((e) => [e.key ? e.key.text.trim() : "", valueText(e.value)]);
  return renderHtmlTable([{ label: "key" }, { label: "value", align: "right" }], rows, { caption: map.name, maxRows: MAX_TABLE_ROWS });
}

/** A map as text, close to bpftrace's own text output. */
export function mapText(map: BpftraceMap, top = 10): string {
  if (isStackCountMap(map)) return StackCounts.fromMap(map).text(top);
  const lines: string[] = [];
  switch (map.kind) {
    case "histogram":
      for (const entry of map.entries) lines.push(`${entryTitle(map, entry)}:`, histogramText(entry.value, map.scale), "");
      break;
    case "stats":
      for (const e of map.entries) {
        const v = e.value;
        lines.push(`${entryTitle(map, e)}: ${v.count === undefined ? v.average : `count ${v.count}, average ${v.average}, total ${v.total}`}`);
      }
      break;
    case "values": {
      const entries = sortedByValue(map.entries);
      for (const e of entries.slice(0, MAX_TABLE_ROWS)) lines.push(`${entryTitle(map, e)}: ${valueText(e.value)}`);
      if (entries.length > MAX_TABLE_ROWS) lines.push(`… ${entries.length - MAX_TABLE_ROWS} more entries`);
      break;
    }
  }
  return lines.join("\n");
}

function sortedByValue(entries: MapEntry<BpftraceValue>[]): MapEntry<BpftraceValue>[] {
  if (!entries.every((e) => typeof e.value === "number")) return entries;
  return [...entries].sort((a, b) => (b.value as number) - (a.value as number));
}

function sumCounts(buckets: HistogramBucket[]): number {
  return buckets.reduce((s, b) => s + b.count, 0);
}
