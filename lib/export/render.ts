/**
 * The export pipeline proper, loaded on first use by index.ts: it pulls in marked, highlight.js
 * and htmlparser2, which code that imports kbook for something else should not pay for.
 */
import { randomBytes } from "node:crypto";
import { renderCell } from "./cells.js";
import { MarkdownRenderer } from "./markdown.js";
import type { Notebook } from "./notebook.js";
import { renderPage } from "./page.js";
import { trustPolicy } from "./trust.js";

export interface ExportOptions {
  /** Keep every output as it is, scripts included (`jupyter trust`'s meaning). Default false. */
  trust?: boolean;
  /** Page title; default: the notebook's metadata title, else its first heading, else `name`. */
  title?: string;
  /** The notebook's file name, the title of last resort. */
  name?: string;
  /** Folder for images referenced by relative path in markdown. */
  baseDir?: string;
}

export interface ExportResult {
  html: string;
  /** Things the reader of the page might miss (removed scripts, SVG shown as an image…). */
  notes: string[];
  /** Cells written (removed and empty cells excluded). */
  cells: number;
}

/** Renders a notebook to a complete HTML page. */
export async function renderNotebook(notebook: Notebook, options: ExportOptions = {}): Promise<ExportResult> {
  const nonce = randomBytes(16).toString("base64");
  const policy = { ...trustPolicy({ trusted: options.trust }), nonce };
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

