/**
 * Notebook cells as page sections: markdown rendered, code highlighted, outputs below, each part
 * shown, folded or left out as the cell's metadata says (see visibility.ts). A folded part sits
 * behind a <details> the reader can open, which needs no script.
 */
import { escapeHtml } from "../viz/escape.js";
import { highlightCell } from "./highlight.js";
import type { MarkdownRenderer } from "./markdown.js";
import { joinText, type Cell } from "./notebook.js";
import { renderOutputs, sanitizeOptions, type OutputContext } from "./outputs.js";
import { sanitizeHtml } from "./sanitize/index.js";
import { cellVisibility, type Visibility } from "./visibility.js";

export interface CellContext extends OutputContext {
  /** The notebook's language, for highlighting code cells. */
  language?: string;
  /** Renders markdown cells (collecting headings for the contents). */
  cellMarkdown: MarkdownRenderer;
  /** The notebook's folder, for images referenced by relative path. */
  baseDir?: string;
}

/** HTML for one cell, or "" when it is removed or empty. */
export async function renderCell(cell: Cell, index: number, context: CellContext): Promise<string> {
  const visibility = cellVisibility(cell);
  if (visibility.cell === "remove") return "";
  const source = joinText(cell.source);
  const anchor = `cell-${index + 1}`;
  let body = "";
  if (cell.cell_type === "markdown") {
    if (!source.trim()) return "";
    body = `<div class="markdown">${context.cellMarkdown.render(source, { baseDir: context.baseDir, attachments: cell.attachments })}</div>`;
  } else if (cell.cell_type === "raw") {
    body = renderRaw(cell, source, anchor, context);
    if (!body) return "";
  } else {
    const outputs = visibility.output === "remove" ? "" : await renderOutputs(cell.outputs ?? [], context);
    const showInput = visibility.input !== "remove" && source.trim() !== "";
    if (!showInput && !outputs) return "";
    if (showInput) {
      const count = typeof cell.execution_count === "number" ? String(cell.execution_count) : " ";
      const code =
        `<div class="input"><div class="prompt in">[${escapeHtml(count)}]:</div>` +
        `<pre class="code"><code class="hljs">${highlightCell(source, context.language)}</code></pre></div>`;
      body += fold(code, visibility.input, "Show code", "input");
    }
    if (outputs) body += fold(`<div class="outputs">${outputs}</div>`, visibility.output, "Show output", "output");
  }
  const html = `<section class="cell ${cell.cell_type}" id="${anchor}">${body}</section>`;
  return visibility.cell === "hide" ? fold(html, "hide", "Show cell", "cell") : html;
}

function fold(html: string, visibility: Visibility, label: string, part: string): string {
  return visibility === "hide" ? `<details class="folded ${part}"><summary>${label}</summary>${html}</details>` : html;
}

/**
 * Raw cells are written for a converter: nbconvert includes them only when their
 * `raw_mimetype` matches the output format. HTML ones are untrusted like any HTML output.
 */
function renderRaw(cell: Cell, source: string, anchor: string, context: CellContext): string {
  const format = String(cell.metadata.raw_mimetype ?? cell.metadata.format ?? "").toLowerCase();
  if (format === "text/html") {
    return `<div class="raw html">${sanitizeHtml(source, sanitizeOptions(anchor, context.policy)).html}</div>`;
  }
  if (format === "text/markdown") return `<div class="raw markdown">${context.markdown.render(source, { baseDir: context.baseDir })}</div>`;
  return "";
}
