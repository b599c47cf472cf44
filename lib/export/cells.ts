/**
 * Notebook cells as page sections, honouring the metadata readers use to shape a notebook:
 * Jupyter Book's tags (`remove-cell`, `remove-input`, `remove-output`, `hide-cell`, `hide-input`,
 * `hide-output`; the `_` spellings too) and JupyterLab's collapsed state (`jupyter.source_hidden`,
 * `jupyter.outputs_hidden`, nbformat's `collapsed`). "remove" leaves the part out of the file;
 * "hide" folds it behind a <details> the reader can open, which needs no script.
 */
import { escapeHtml } from "./escape.js";
import { highlightCell } from "./highlight.js";
import type { MarkdownRenderer } from "./markdown.js";
import { joinText, type Cell } from "./notebook.js";
import { renderOutputs, sanitizeOptions, type OutputContext } from "./outputs.js";
import { sanitizeHtml } from "./sanitize/index.js";

export type Visibility = "show" | "hide" | "remove";

export interface CellVisibility {
  cell: Visibility;
  input: Visibility;
  output: Visibility;
}

/** How a cell is shown, from its tags and collapse metadata. */
export function cellVisibility(cell: Cell): CellVisibility {
  const tags = new Set((Array.isArray(cell.metadata.tags) ? cell.metadata.tags : []).map((t) => String(t).replace(/_/g, "-")));
  const jupyter = typeof cell.metadata.jupyter === "object" && cell.metadata.jupyter !== null ? cell.metadata.jupyter : {};
  const pick = (part: "cell" | "input" | "output", hiddenByMetadata = false): Visibility =>
    tags.has(`remove-${part}`) ? "remove" : tags.has(`hide-${part}`) || hiddenByMetadata ? "hide" : "show";
  return {
    cell: pick("cell"),
    input: pick("input", jupyter.source_hidden === true),
    output: pick("output", jupyter.outputs_hidden === true || cell.metadata.collapsed === true),
  };
}

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
