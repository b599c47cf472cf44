/**
 * Small HTML building blocks for displays: tables and standalone pages. Every piece of text that
 * reaches the markup goes through `escapeHtml`; the only unescaped input is a `RawHtml` value,
 * which kbook itself produced (an SVG rendered by vega or Plot, another table).
 */
import { escapeHtml } from "./escape.js";

export { escapeHtml };

/** Markup that is already safe (built by kbook), as opposed to text that must be escaped. */
export class RawHtml {
  constructor(readonly html: string) {}
  toString(): string {
    return this.html;
  }
}

export function rawHtml(html: string): RawHtml {
  return new RawHtml(html);
}

export type CellContent = string | number | bigint | boolean | null | undefined | RawHtml;

export interface HtmlColumn {
  /** Header text. */
  label: string;
  /** Right-align numbers. */
  align?: "left" | "right";
}

export interface HtmlTableOptions {
  caption?: string;
  /** CSS class on the table (a kbook- prefix keeps page styles from clashing). */
  className?: string;
  /** Rows beyond this many are left out and counted in a footer note. */
  maxRows?: number;
}

/** The HTML text of one cell's content. */
export function cellHtml(value: CellContent): string {
  if (value instanceof RawHtml) return value.html;
  if (value === null || value === undefined) return "";
  return escapeHtml(String(value));
}

/** Renders rows as an HTML table; every cell is escaped unless it is RawHtml. */
export function renderHtmlTable(columns: readonly HtmlColumn[], rows: readonly (readonly CellContent[])[], options: HtmlTableOptions = {}): string {
  const shown = options.maxRows !== undefined ? rows.slice(0, options.maxRows) : rows;
  const out: string[] = [`<table class="${escapeHtml(options.className ?? "kbook-table")}">`];
  if (options.caption) out.push(`<caption>${escapeHtml(options.caption)}</caption>`);
  out.push("<thead><tr>");
  for (const column of columns) out.push(`<th${alignStyle(column)}>${escapeHtml(column.label)}</th>`);
  out.push("</tr></thead><tbody>");
  for (const row of shown) {
    out.push("<tr>");
    columns.forEach((column, i) => out.push(`<td${alignStyle(column)}>${cellHtml(row[i])}</td>`));
    out.push("</tr>");
  }
  out.push("</tbody>");
  if (shown.length < rows.length) {
    out.push(`<tfoot><tr><td colspan="${columns.length}">… ${rows.length - shown.length} more rows not shown</td></tr></tfoot>`);
  }
  out.push("</table>");
  return out.join("");
}

function alignStyle(column: HtmlColumn): string {
  return column.align === "right" ? ' style="text-align:right"' : "";
}

/** A horizontal bar (share of a total) drawn with inline CSS, for table cells. */
export function shareBar(fraction: number, width = 120): RawHtml {
  const clamped = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const px = Math.round(clamped * width);
  return rawHtml(
    `<span style="display:inline-block;width:${width}px;height:0.8em;background:#eee;vertical-align:middle">` +
      `<span style="display:block;width:${px}px;height:100%;background:#e8663d"></span></span> ` +
      escapeHtml(`${(clamped * 100).toFixed(1)}%`),
  );
}

/** Preformatted text, escaped. */
export function preformatted(text: string, className = "kbook-pre"): string {
  return `<pre class="${escapeHtml(className)}">${escapeHtml(text)}</pre>`;
}

/** Table styles shared by kbook's HTML displays (scoped by class so notebooks keep their look). */
export const TABLE_CSS = `
.kbook-table{border-collapse:collapse;font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace;margin:0.5em 0}
.kbook-table caption{text-align:left;font-weight:bold;padding:0.3em 0}
.kbook-table th,.kbook-table td{border:1px solid #ddd;padding:2px 6px;vertical-align:top}
.kbook-table th{background:#f5f5f5}
.kbook-table td ol{margin:0;padding-left:1.6em}
.kbook-pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace;max-height:30em;overflow:auto;background:#f8f8f8;padding:0.5em}
`;

/** A complete HTML page around a body (for files written by the CLI). */
export function renderHtmlPage(title: string, body: string, extraCss = ""): string {
  return [
    "<!DOCTYPE html>",
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>body{font-family:system-ui,sans-serif;margin:1.5em}${TABLE_CSS}${extraCss}</style>`,
    "</head><body>",
    `<h1>${escapeHtml(title)}</h1>`,
    body,
    "</body></html>",
    "",
  ].join("\n");
}
