/**
 * `kbook export`: a notebook as one self-contained HTML file that works offline from file://.
 * Markdown is rendered (its raw HTML shown as text), code highlighted, and every output kept:
 * flame graphs inline with their search and zoom, Vega-Lite charts drawn by an inlined
 * vega-embed over their static SVG, tables, text, errors. See trust.ts for which output scripts
 * run, and page.ts for the Content-Security-Policy that backs it.
 */
import { randomBytes } from "node:crypto";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { basename, dirname, extname, resolve } from "node:path";
import { renderCell } from "./cells.js";
import { MarkdownRenderer } from "./markdown.js";
import { readNotebook, type Notebook } from "./notebook.js";
import { renderPage } from "./page.js";
import { trustPolicy } from "./trust.js";

export { ansiToHtml, stripAnsi } from "./ansi.js";
export { escapeHtml, escapeJsonForScript } from "./escape.js";
export { cellVisibility } from "./cells.js";
export type { CellVisibility, Visibility } from "./cells.js";
export { checkNotebook, parseNotebook, readNotebook } from "./notebook.js";
export type { Cell, Notebook, Output } from "./notebook.js";
export { sanitizeHtml, sanitizeSvg } from "./sanitize/index.js";
export type { SanitizeOptions } from "./sanitize/index.js";
export { trustPolicy } from "./trust.js";
export type { TrustPolicy } from "./trust.js";

export interface ExportOptions {
  /** Keep every output as it is, scripts included (`jupyter trust`'s meaning). Default false. */
  trust?: boolean;
  /** Page title; default: the notebook's metadata title, else its first heading, else `name`. */
  title?: string;
  /** The notebook's file name, the title of last resort. */
  name?: string;
  /** Folder for images referenced by relative path in markdown. */
  baseDir?: string;
  /** Further script texts to accept as kbook's own (tests use it; the CLI does not). */
  extraTrustedScripts?: Iterable<string>;
}

export interface ExportResult {
  html: string;
  /** Things the reader of the page might miss (removed scripts, SVG shown as an image…). */
  notes: string[];
  /** Cells written (removed and empty cells excluded). */
  cells: number;
}

/** Renders a notebook to a complete HTML page. */
export async function exportNotebook(notebook: Notebook, options: ExportOptions = {}): Promise<ExportResult> {
  const nonce = randomBytes(16).toString("base64");
  const policy = { ...trustPolicy({ trusted: options.trust, extraScripts: options.extraTrustedScripts }), nonce };
  const usedIds = new Set(["notebook"]);
  const cellMarkdown = new MarkdownRenderer({ usedIds });
  let outputCount = 0;
  const context = {
    policy,
    cellMarkdown,
    markdown: new MarkdownRenderer({ usedIds, collectHeadings: false }),
    nextId: () => `o${++outputCount}`,
    usesVega: false,
    notes: [] as string[],
    language: notebook.metadata.language_info?.name ?? notebook.metadata.kernelspec?.language,
    baseDir: options.baseDir,
  };
  const sections: string[] = [];
  for (const [index, cell] of notebook.cells.entries()) {
    const html = await renderCell(cell, index, context);
    if (html) sections.push(html);
  }
  const firstHeading = cellMarkdown.headings[0];
  const metadataTitle = typeof notebook.metadata.title === "string" && notebook.metadata.title.trim() ? notebook.metadata.title.trim() : undefined;
  const title = options.title ?? metadataTitle ?? (firstHeading?.depth === 1 ? firstHeading.text : undefined) ?? options.name ?? "Notebook";
  const html = renderPage({
    title,
    kernelName: notebook.metadata.kernelspec?.display_name,
    titleFromHeading: !options.title && !metadataTitle && firstHeading?.depth === 1 && firstHeading.text === title,
    headings: cellMarkdown.headings,
    cellsHtml: sections.join("\n"),
    usesVega: context.usesVega,
    nonce,
    trusted: policy.trusted,
  });
  return { html, notes: context.notes, cells: sections.length };
}

/** Exports `input` (.ipynb) to `output` (.html), written atomically; returns what was written. */
export async function exportNotebookFile(
  input: string,
  output: string,
  options: ExportOptions = {},
): Promise<ExportResult & { output: string; bytes: number }> {
  const notebook = await readNotebook(input);
  const result = await exportNotebook(notebook, {
    baseDir: dirname(resolve(input)),
    name: basename(input, extname(input)),
    ...options,
  });
  const target = resolve(output);
  await mkdir(dirname(target), { recursive: true });
  const temporary = `${target}.${process.pid}.tmp`;
  await writeFile(temporary, result.html);
  await rename(temporary, target);
  return { ...result, output: target, bytes: Buffer.byteLength(result.html) };
}
